"""`civicline sync` (the sweep) and `civicline status`."""

from __future__ import annotations

import json
import time

import click

from gateway.settings import Settings


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
    from gateway.app import open_syncer
    from gateway.store.outbox import OutboxStore
    from gateway.sync.schedule import next_sweep_in
    from gateway.sync.status import describe

    settings = Settings.from_env()
    with open_syncer(settings) as (store, syncer):
        if retry_quarantined:
            released = OutboxStore(store.engine).release_quarantined()
            click.echo(f"{released} quarantined events will be sent again")
        if once or retry_quarantined:
            report = syncer.run(force=True, budget=float("inf"))
            click.echo(describe(report))
            if report.outcome == "failed":
                raise SystemExit(1)
            return
        click.echo(f"syncing every {settings.sync_interval:g} s (Ctrl-C to stop)")
        while True:
            report = syncer.run()
            if report.sent or report.quarantined or report.outcome == "failed":
                click.echo(describe(report))
            time.sleep(next_sweep_in(report, settings.sync_interval))


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(as_json: bool) -> None:
    """Backlog, last sync, last error, quarantined events and consultations version."""
    from gateway.application.services import open_local_store
    from gateway.commands.reading import require_database
    from gateway.embedded_centre import published_consultations
    from gateway.store.outbox import OutboxStore
    from gateway.store.sync_state import SyncStateStore
    from gateway.sync.status import gather, render

    settings = Settings.from_env()
    require_database(settings, settings.database_url, "DATABASE_URL")
    store = open_local_store(settings)
    try:
        info = gather(settings, OutboxStore(store.engine), SyncStateStore(store.engine),
                      lambda: published_consultations(settings, store))
    finally:
        store.engine.dispose()
    click.echo(json.dumps(info, indent=2) if as_json else render(info))
