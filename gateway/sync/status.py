"""What the sync says to an operator: `civicline status` (backlog, last sync, last
error, quarantined events, where the consultations come from) and the line
`civicline sync` prints after a pass."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import make_url

from gateway.settings import Settings
from gateway.store.outbox import OutboxStore
from gateway.store.sync_state import SyncStateStore
from gateway.sync import catalog, runner
from gateway.sync.lease import holder_alive
from gateway.sync.runner import SyncReport


def describe(report: SyncReport) -> str:
    """One line on a pass, as `civicline sync` prints it."""
    if report.outcome == "failed":
        return (f"sync failed: {report.error}; {runner.events_wait(report.backlog)}, next attempt "
                f"in {report.retry_in:.0f} s")
    if report.outcome == "waiting":
        return (f"backing off after failures ({report.error}); next attempt in "
                f"{report.retry_in:.0f} s")
    if report.outcome == "busy":
        return "another sync pass is running; nothing to do"
    text = (f"synced {runner.events(report.sent)} ({report.new} new, {report.known} already "
            f"known); {report.backlog} waiting")
    if report.quarantined:
        text += f"; {report.quarantined} quarantined (see `civicline status`)"
    if report.consultations:
        text += f"; consultations {report.consultations}"
    return text


def gather(
    settings: Settings,
    outbox: OutboxStore,
    sync_state: SyncStateStore,
    published: Callable[[], dict[str, Any]],
) -> dict[str, Any]:
    """What `civicline status` shows. `published` describes the consultations the
    embedded centre publishes (not asked with CENTRAL_URL: the cached set is shown)."""
    state = sync_state.state()
    quarantined_total, quarantined = outbox.quarantined(limit=20)
    lease = sync_state.current_lease()
    now = datetime.now(UTC)
    # A lease left by a process that has ended is not a sync in progress.
    running = bool(lease and lease.expires_at > now and holder_alive(lease))
    info: dict[str, Any] = {
        "gateway": settings.gateway_id,
        "central": settings.central_url or (
            "embedded: " + make_url(settings.central_database_url).render_as_string(
                hide_password=True)
        ),
        "backlog": outbox.backlog(),
        "last_success_at": state.get(runner.LAST_SUCCESS) or None,
        "last_result": state.get(runner.LAST_RESULT) or None,
        "last_error": state.get(runner.LAST_ERROR) or None,
        "last_error_at": state.get(runner.LAST_ERROR_AT) or None,
        "failures_in_a_row": int(state.get(runner.FAILURES) or 0),
        "next_attempt_at": state.get(runner.NEXT_ATTEMPT) or None,
        "quarantined": quarantined_total,
        "quarantined_events": [
            {"event_id": q.event_id, "consultation_id": q.consultation_id,
             "question_id": q.question_id, "error": q.error}
            for q in quarantined
        ],
        "sync_running": running,
        "consultations": _consultations(settings, sync_state, state, published),
    }
    if running and lease is not None:
        info["sync_running_in"] = f"{lease.host} pid {lease.pid}"
    return info


def _consultations(
    settings: Settings,
    sync_state: SyncStateStore,
    state: dict[str, str],
    published: Callable[[], dict[str, Any]],
) -> dict[str, Any]:
    if settings.central_url:
        etag, cached = sync_state.cached_consultations()
        return {
            "source": f"central set {etag}" if etag else
            f"FLOWS_DIR ({settings.flows_dir}): nothing fetched from the centre yet",
            "version": etag,
            "items": [{"id": c.id, "version": c.version} for c in cached],
            "checked_at": state.get(catalog.CATALOG_CHECKED) or None,
            "error": state.get(catalog.CATALOG_ERROR) or None,
        }
    return published()


def render(info: dict[str, Any]) -> str:
    """`civicline status` for a person."""
    lines = [f"gateway {info['gateway']} -> central {info['central']}"]
    lines.append(f"backlog: {runner.events(info['backlog'])} waiting to sync")
    if info["sync_running"]:
        lines.append(f"sync running now in {info.get('sync_running_in')}")
    if info["last_success_at"]:
        lines.append(f"last successful sync: {info['last_success_at']} ({info['last_result']})")
    else:
        lines.append("last successful sync: never")
    if info["last_error"]:
        lines.append(f"last error: {info['last_error_at']}: {info['last_error']}")
    if info["failures_in_a_row"]:
        lines.append(
            f"FAILING: {info['failures_in_a_row']} attempts in a row; events are kept and "
            f"retried without end, next attempt at {info['next_attempt_at']}"
        )
    lines.append(f"quarantined: {runner.events(info['quarantined'])} refused by the centre")
    for q in info["quarantined_events"]:
        lines.append(f"  {q['event_id']} {q['consultation_id']}/{q['question_id']}: "
                     f"{q['error']}")
    if info["quarantined"]:
        lines.append("  (fix the cause, then `civicline sync --retry-quarantined`)")
    c = info["consultations"]
    items = ", ".join(f"{i['id']} v{i['version']}" for i in c["items"]) or "none cached"
    lines.append(f"consultations: {c['source']}: {items}")
    if c.get("error"):
        lines.append(f"  consultations error: {c['error']}")
    return "\n".join(lines)
