"""Where the gateway's consultations come from."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError

from gateway.consultation.catalogue import load_catalog, parse_consultation
from gateway.consultation.model import Catalog, Consultation
from gateway.consultation.reading import FlowsInvalid
from gateway.store.sync_state import CachedConsultation, SyncStateStore

log = logging.getLogger(__name__)


class CatalogSource(Protocol):
    def current(self) -> Catalog: ...


class StaticCatalog:
    """A catalog fixed at start-up, from ivr_flows/ or given by a test."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    @classmethod
    def from_dir(cls, flows_dir: Path) -> StaticCatalog:
        return cls(load_catalog([flows_dir]))

    def current(self) -> Catalog:
        return self._catalog


class CentralCatalog:
    """For gateways with CENTRAL_URL: the consultations last fetched from the centre.

    The sync pass writes the fetched set to the local store (consultation_cache, with
    its ETag); every process reads it from there, so a gateway restarting offline still
    serves the last known set, and each gunicorn worker sees a refresh within
    `check_every` seconds. The check is one small query, at most once per interval.
    Until a set was ever fetched, FLOWS_DIR is served.
    """

    def __init__(
        self,
        sync_state: SyncStateStore,
        flows_dir: Path,
        *,
        check_every: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sync_state = sync_state
        self._flows_dir = flows_dir
        self._check_every = check_every
        self._clock = clock
        self._lock = threading.Lock()
        self._catalog: Catalog | None = None
        self._etag: str | None = None
        self._checked = -math.inf
        self._fallback: Catalog | None = None
        self.source = ""  # "central <etag>" or "FLOWS_DIR"

    def current(self) -> Catalog:
        catalog = self._catalog
        if catalog is not None and self._clock() - self._checked < self._check_every:
            return catalog
        with self._lock:
            if self._catalog is None or self._clock() - self._checked >= self._check_every:
                self._refresh()
            assert self._catalog is not None
            return self._catalog

    def _refresh(self) -> None:
        try:
            etag = self._sync_state.catalog_etag()
            if etag is None:
                if self._catalog is None or self._etag is not None:
                    self._catalog = self._flows_catalog()
                    self.source = "FLOWS_DIR"
            elif etag != self._etag:
                _, cached = self._sync_state.cached_consultations()
                self._catalog = self._build(cached)
                self._etag = etag
                self.source = f"central {etag}"
                log.info("consultations: serving the central set %s (%s)", etag,
                         ", ".join(f"{c.id} v{c.version}" for c in cached) or "none")
        except SQLAlchemyError as exc:
            if self._catalog is None:
                raise
            log.warning("consultations: cannot check the local cache (%s); serving the "
                        "set in memory", exc)
        self._checked = self._clock()

    def _build(self, cached: list[CachedConsultation]) -> Catalog:
        """Every cached consultation that validates; one that no longer does (a stricter
        loader) keeps its previous version when this process had one."""
        previous = {c.id: c for c in self._catalog.consultations} if self._catalog else {}
        consultations: list[Consultation] = []
        for item in cached:
            try:
                consultations.append(
                    parse_consultation(item.definition, f"central {item.id} v{item.version}")
                )
            except FlowsInvalid as exc:
                log.error("consultations: %s does not validate here: %s", item.id, exc)
                if item.id in previous:
                    consultations.append(previous[item.id])
        return Catalog(consultations=tuple(consultations))

    def _flows_catalog(self) -> Catalog:
        if self._fallback is None:
            self._fallback = (
                load_catalog([self._flows_dir]) if self._flows_dir.exists() else Catalog()
            )
        return self._fallback
