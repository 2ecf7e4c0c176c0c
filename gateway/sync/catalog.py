"""The consultations a remote centre publishes, fetched by the sync into the local store.

A pass asks with the ETag of the set it has (so an unchanged set costs a 304), checks
every definition with this gateway's loader, and replaces the cached set whole, or keeps
the previous one and records why. Every process serves the cached set
(gateway/application/catalog_source.py CentralCatalog), so a gateway restarting offline
still serves the last known set.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from gateway.consultation.catalogue import parse_consultation
from gateway.consultation.reading import FlowsInvalid
from gateway.store.sync_state import SyncStateStore
from gateway.sync.client import CentralClient

log = logging.getLogger(__name__)

CATALOG_ERROR = "consultations_error"
CATALOG_CHECKED = "consultations_checked_at"


def refresh_consultations(client: CentralClient, sync_state: SyncStateStore) -> str:
    """Fetch the published set if it changed: "unchanged", "updated" or "refused"."""
    now = datetime.now(UTC)
    fetched = client.fetch_consultations(sync_state.catalog_etag())
    if fetched is None:
        sync_state.set_state({CATALOG_CHECKED: now.isoformat()}, now)
        return "unchanged"
    problems = []
    for item in fetched.consultations:
        try:
            parse_consultation(item.definition, f"central {item.id} v{item.version}")
        except FlowsInvalid as exc:
            problems.append(str(exc))
    if problems:
        message = "consultations from the centre do not validate here, kept the " \
                  "previous set: " + " | ".join(problems)
        log.error("sync: %s", message)
        sync_state.set_state({CATALOG_ERROR: message, CATALOG_CHECKED: now.isoformat()}, now)
        return "refused"
    sync_state.replace_consultations(fetched.consultations, fetched.etag, now)
    sync_state.set_state({CATALOG_ERROR: "", CATALOG_CHECKED: now.isoformat()}, now)
    log.info("sync: consultations updated from the centre: %s",
             ", ".join(f"{c.id} v{c.version}" for c in fetched.consultations) or "none")
    return "updated"
