"""The central store inside the gateway's process: the default when CENTRAL_URL is unset.

A single machine then works out of the box: the gateway publishes its FLOWS_DIR to the
embedded centre at start-up, holds an automatically issued gateway token in its local
store, serves the centre's API and the officials' dashboard on its own app, and its sync
delivers through the same API routes a remote centre serves (in-process, through the
central app's routes, with the same token and checks).

This is the one module that joins the gateway side and the centre: it assembles the
embedded centre as a central link (gateway/sync/link.py) and mounts it on the gateway's
app. The entry points (gateway/app.py, gateway/jobs.py, the CLI) call it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask

from gateway.central.app import create_central_app, open_central_store, register_central
from gateway.central.officials.mount import register_officials
from gateway.central.store.central_store import CentralStore
from gateway.central.store.consultations import PublishOutcome, PublishRefused
from gateway.consultation.catalogue import scan_catalog
from gateway.consultation.reading import FlowsInvalid
from gateway.settings import Settings, SettingsError
from gateway.store.participants import LocalStore
from gateway.sync.client import CentralClient, HttpReply
from gateway.sync.link import CentralLink, RemoteCentral

if TYPE_CHECKING:
    from gateway.application.services import Services

log = logging.getLogger(__name__)

TOKEN_LABEL = b"civicline embedded gateway token:"  # keys the derivation below


def central_link(settings: Settings, store: LocalStore) -> CentralLink:
    """The centre this gateway syncs to: CENTRAL_URL's over HTTP, else the embedded one."""
    if settings.central_url:
        return RemoteCentral(settings)
    return EmbeddedCentral(settings)


class WsgiTransport:
    """The central app in this process, called through its routes like any client."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def request(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes | None
    ) -> HttpReply:
        response = self.app.test_client().open(path, method=method, headers=dict(headers),
                                               data=body)
        try:
            return HttpReply(response.status_code, dict(response.headers), response.get_data())
        finally:
            response.close()


class EmbeddedCentral:
    """The central link to the centre in this process; opened on first use, once."""

    # The embedded gateway serves FLOWS_DIR and publishes it at start-up: nothing to fetch.
    refresh_catalog = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._store: CentralStore | None = None
        self._app: Flask | None = None

    @property
    def store(self) -> CentralStore:
        with self._lock:
            if self._store is None:
                self._store = open_central_store(self.settings)
            return self._store

    @property
    def app(self) -> Flask:
        """A central-only app, for the in-process transport of the sync client."""
        store = self.store
        with self._lock:
            if self._app is None:
                self._app = create_central_app(self.settings, store)
            return self._app

    def client(self) -> CentralClient:
        return CentralClient(WsgiTransport(self.app), self.gateway_token(),
                             compress=False)

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.engine.dispose()

    def gateway_token(self) -> str:
        """This gateway's token at the embedded centre: derived from the installation's
        SECRET_KEY, so every process of the installation holds the same one without
        keeping or agreeing on anything, and registered at the centre when it does not
        know it yet (first start, its database replaced, SECRET_KEY changed). The centre's
        write is a transaction of its own, never inside one of the gateway's (on one
        SQLite file the two would wait for each other)."""
        name = self.settings.gateway_id
        token = hmac.new(self.settings.secret_key.encode(), TOKEN_LABEL + name.encode(),
                         hashlib.sha256).hexdigest()
        if self.store.authenticate(token) != name:
            log.info("embedded central store: registering gateway %s", name)
            self.store.add_gateway(name, datetime.now(UTC), replace=True, token=token)
        return token

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

    def consultations_status(self) -> dict[str, Any]:
        """What `civicline status` shows of the consultations this centre publishes."""
        try:
            published = self.store.consultations()
            etag = self.store.catalog_etag()
        except Exception as exc:  # noqa: BLE001 - status must still print the rest
            return {"source": "embedded central store", "error": f"unreadable: {exc}",
                    "items": [], "version": None}
        return {
            "source": f"embedded central store, set {etag} (FLOWS_DIR {self.settings.flows_dir})",
            "version": etag,
            "items": [{"id": c.id, "version": c.version} for c in published],
            "error": None,
        }


def serve_embedded_centre(app: Flask, services: Services) -> None:
    """No CENTRAL_URL: serve the central API and the dashboard on the gateway's app,
    publish FLOWS_DIR to the centre and make sure this gateway holds a token for it, so
    one machine works out of the box. With CENTRAL_URL: nothing."""
    central = services.central
    if not isinstance(central, EmbeddedCentral):
        return
    settings = services.settings
    register_central(app, central.store)
    register_officials(app, central.store.engine, settings)
    try:
        central.publish_flows(settings.flows_dir)
    except PublishRefused as exc:
        raise SettingsError(
            f"FLOWS_DIR={settings.flows_dir} cannot be published to the central store at "
            f"{settings.central_database_url}: {exc}"
        ) from exc
    central.gateway_token()


def published_consultations(settings: Settings, store: LocalStore) -> dict[str, Any]:
    """The embedded centre's published set, for `civicline status`; opened and closed."""
    central = EmbeddedCentral(settings)
    try:
        return central.consultations_status()
    finally:
        central.close()
