"""The central store inside the gateway's process: the default when CENTRAL_URL is unset.

A single machine then works out of the box: the gateway publishes its FLOWS_DIR to the
embedded centre at start-up, holds an automatically issued gateway token in its local
store, and its sync delivers through the same API routes a remote centre serves.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask

from gateway.central.store.central_store import CentralStore, PublishOutcome, PublishRefused
from gateway.consultation.loader import FlowsInvalid, scan_catalog
from gateway.settings import Settings
from gateway.store.sync_state import SyncStateStore

log = logging.getLogger(__name__)

TOKEN_KEY = "embedded_central_token"


class EmbeddedCentral:
    """Opened on first use, once per process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._store: CentralStore | None = None
        self._app: Flask | None = None

    @property
    def store(self) -> CentralStore:
        with self._lock:
            if self._store is None:
                from gateway.central.app import open_central_store

                self._store = open_central_store(self.settings)
            return self._store

    @property
    def app(self) -> Flask:
        """A central-only app, for the in-process transport of the sync client."""
        store = self.store
        with self._lock:
            if self._app is None:
                from gateway.central.app import create_central_app

                self._app = create_central_app(self.settings, store)
            return self._app

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.engine.dispose()

    def gateway_token(self, sync_state: SyncStateStore) -> str:
        """This gateway's token at the embedded centre, issued on first use.

        Kept in the local store; issued again if the centre no longer knows it (its
        database was replaced).
        """
        name = self.settings.gateway_id
        store = self.store

        def decide(current: str | None) -> str:
            if current and store.authenticate(current) == name:
                return current
            log.info("embedded central store: issuing a token for gateway %s", name)
            return store.add_gateway(name, datetime.now(UTC), replace=True)

        return sync_state.settle_state(TOKEN_KEY, decide, datetime.now(UTC))

    def publish_flows(self, flows_dir: Path) -> list[PublishOutcome]:
        """Publish every consultation file in `flows_dir`; raises with every refusal.

        Files are retried while any succeeds, so a keyword moved from one consultation
        to another publishes whatever the order of the files.
        """
        if not flows_dir.exists():
            return []
        scan = scan_catalog([flows_dir])
        if scan.errors:
            raise FlowsInvalid(scan.errors)
        pending = list(scan.files)
        outcomes: list[PublishOutcome] = []
        refusals: dict[str, str] = {}
        while pending:
            refusals = {}
            still = []
            for path in pending:
                try:
                    outcome = self.store.publish(
                        Path(path).read_text(encoding="utf-8"), str(path), datetime.now(UTC)
                    )
                except PublishRefused as exc:
                    refusals[str(path)] = str(exc)
                    still.append(path)
                    continue
                outcomes.append(outcome)
                if outcome.changed:
                    log.info("published %s version %d to the embedded central store",
                             outcome.id, outcome.version)
            if len(still) == len(pending):
                break
            pending = still
        if refusals:
            raise PublishRefused("\n".join(refusals.values()))
        return outcomes
