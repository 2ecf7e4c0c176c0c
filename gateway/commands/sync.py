"""`civicline sync` (the sweep) and `civicline status`."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

import click
from sqlalchemy.engine import make_url

from gateway.settings import Settings
from gateway.store.outbox import OutboxStore
from gateway.store.sync_state import SyncStateStore
from gateway.sync import runner, schedule
from gateway.sync.lease import holder_alive
from gateway.sync.runner import SyncReport

log = logging.getLogger(__name__)


@click.command()
@click.option("--once", is_flag=True, help="One pass now (ignoring any back-off), then exit.")
@click.option("--retry-quarantined", is_flag=True,
              help="Send quarantined events again (after the cause was fixed), then sync.")
def sync(once: bool, retry_quarantined: bool) -> None:
    """Send unsynced events to the central store; without --once, every SYNC_INTERVAL.

    The loop is the sweep: it finds events whose wake-up was lost (Redis down, a worker
    killed) and retries after failures with a capped back-off. It runs safely beside
    RQ workers: one pass at a time holds the gateway's sync lease.
    """
    from gateway.embedded_centre import EmbeddedCentral
    from gateway.sync.jobs import build_syncer, open_local_store

    settings = Settings.from_env()
    store = open_local_store(settings)
    central = None if settings.central_url else EmbeddedCentral(settings)
    syncer = build_syncer(settings, store, central)
    try:
        if retry_quarantined:
            released = OutboxStore(store.engine).release_quarantined()
            click.echo(f"{released} quarantined events will be sent again")
        if once or retry_quarantined:
            report = syncer.run(force=True, budget=float("inf"))
            click.echo(_describe(report))
            if report.outcome == "failed":
                raise SystemExit(1)
            return
        click.echo(f"syncing every {settings.sync_interval:g} s (Ctrl-C to stop)")
        while True:
            report = syncer.run()
            if report.sent or report.quarantined or report.outcome == "failed":
                click.echo(_describe(report))
            time.sleep(schedule.next_sweep_in(report, settings.sync_interval))
    finally:
        syncer.close()
        if central is not None:
            central.close()
        store.engine.dispose()


def _describe(report: SyncReport) -> str:
    if report.outcome == "failed":
        return (f"sync failed: {report.error}; {report.backlog} events wait, next attempt "
                f"in {report.retry_in:.0f} s")
    if report.outcome == "waiting":
        return (f"backing off after failures ({report.error}); next attempt in "
                f"{report.retry_in:.0f} s")
    if report.outcome == "busy":
        return "another sync pass is running; nothing to do"
    text = (f"synced {report.sent} events ({report.new} new, {report.known} already known); "
            f"{report.backlog} waiting")
    if report.quarantined:
        text += f"; {report.quarantined} quarantined (see `civicline status`)"
    if report.consultations:
        text += f"; consultations {report.consultations}"
    return text


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(as_json: bool) -> None:
    """Backlog, last sync, last error, quarantined events and consultations version."""
    from gateway.sync.jobs import open_local_store

    settings = Settings.from_env()
    engine = open_local_store(settings).engine
    try:
        info = _status(settings, OutboxStore(engine), SyncStateStore(engine))
    finally:
        engine.dispose()
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    click.echo(_render(info))


def _status(
    settings: Settings, outbox: OutboxStore, sync_state: SyncStateStore
) -> dict[str, Any]:
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
        "consultations": _consultations(settings, sync_state, state),
    }
    if running and lease is not None:
        info["sync_running_in"] = f"{lease.host} pid {lease.pid}"
    return info


def _consultations(
    settings: Settings, sync_state: SyncStateStore, state: dict[str, str]
) -> dict[str, Any]:
    if settings.central_url:
        etag, cached = sync_state.cached_consultations()
        return {
            "source": f"central set {etag}" if etag else
            f"FLOWS_DIR ({settings.flows_dir}): nothing fetched from the centre yet",
            "version": etag,
            "items": [{"id": c.id, "version": c.version} for c in cached],
            "checked_at": state.get(runner.CATALOG_CHECKED) or None,
            "error": state.get(runner.CATALOG_ERROR) or None,
        }
    from gateway.embedded_centre import EmbeddedCentral

    central = EmbeddedCentral(settings)
    try:
        published = central.store.consultations()
        etag = central.store.catalog_etag()
    except Exception as exc:  # noqa: BLE001 - status must still print the rest
        return {"source": "embedded central store", "error": f"unreadable: {exc}",
                "items": [], "version": None}
    finally:
        central.close()
    return {
        "source": f"embedded central store, set {etag} (FLOWS_DIR {settings.flows_dir})",
        "version": etag,
        "items": [{"id": c.id, "version": c.version} for c in published],
        "error": None,
    }


def _render(info: dict[str, Any]) -> str:
    lines = [f"gateway {info['gateway']} -> central {info['central']}"]
    lines.append(f"backlog: {info['backlog']} events waiting to sync")
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
    lines.append(f"quarantined: {info['quarantined']} events refused by the centre")
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
