"""Outreach in the sync pass: fetch what the centre publishes (GET /api/v1/outreach, with
its ETag, like the consultations) and report this gateway's preview and counts (POST
/api/v1/outreach/progress). A centre without these routes (404) is skipped, not failed.

What is reported is computed by the application (gateway/application/outreach_runner.py
`progress_reports`), handed to the Syncer by the entry points.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.store.outreach import OutreachStore
from gateway.store.sync_state import SyncStateStore
from gateway.sync.client import CentralClient, NotOffered
from gateway.sync.outreach_definition import OutreachInvalid, parse_outreach

log = logging.getLogger(__name__)

OUTREACH_ERROR = "outreach_error"
REPORTED_AT = "outreach_reported_at"
REPORT_EVERY = timedelta(seconds=60)  # a preview resolves the audience: not every pass

ProgressReporter = Callable[[], list[dict[str, Any]]]


def refresh_outreach(client: CentralClient, store: OutreachStore,
                     sync_state: SyncStateStore) -> str:
    """"unchanged", "updated", "refused" (kept the previous set) or "not offered"."""
    now = datetime.now(UTC)
    try:
        fetched = client.fetch_outreach(store.etag())
    except NotOffered:
        return "not offered"
    if fetched is None:
        return "unchanged"
    problems = []
    for item in fetched.outreach:
        try:
            parse_outreach(item.definition)
        except OutreachInvalid as exc:
            problems.append(str(exc))
    if problems:
        message = "outreach from the centre does not validate here, kept the previous " \
                  "set: " + " | ".join(problems)
        log.error("sync: %s", message)
        sync_state.set_state({OUTREACH_ERROR: message}, now)
        return "refused"
    store.replace(fetched.outreach, fetched.etag, now)
    sync_state.set_state({OUTREACH_ERROR: ""}, now)
    log.info("sync: outreach updated from the centre: %s",
             ", ".join(f"{o.id} v{o.version} {o.status}" for o in fetched.outreach) or "none")
    return "updated"


def report_progress(client: CentralClient, reporter: ProgressReporter,
                    sync_state: SyncStateStore, *, force: bool) -> int | None:
    """Send the reports if due (or `force`: the set changed); the number stored."""
    now = datetime.now(UTC)
    last = sync_state.state([REPORTED_AT]).get(REPORTED_AT)
    if not force and last:
        try:
            if now - datetime.fromisoformat(last) < REPORT_EVERY:
                return None
        except ValueError:
            pass
    reports = reporter()
    if not reports:
        return None
    try:
        stored = client.send_outreach_progress(reports)
    except NotOffered:
        return None
    sync_state.set_state({REPORTED_AT: now.isoformat()}, now)
    return stored
