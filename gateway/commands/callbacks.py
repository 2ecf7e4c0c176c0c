"""`civicline callbacks place`: the sweep that places due missed-call call-backs.

Redis only wakes placement; the `callbacks` table is the record. Run this from cron or a
clock process (`--every 60`) so that call-backs requested while Redis was down are placed.
Without REDIS_URL, `civicline serve` sweeps in-process and this is not needed.
"""

from __future__ import annotations

import time

import click

from gateway.settings import Settings


@click.group()
def callbacks() -> None:
    """Missed-call call-backs."""


@callbacks.command()
@click.option("--every", type=float, default=None,
              help="Keep sweeping, every this many seconds (default: once, then exit).")
def place(every: float | None) -> None:
    """Place every call-back that is due (through Twilio's REST API)."""
    from gateway.app import build_services
    from gateway.application.callback_scheduling import NoCallbackScheduler
    from gateway.application.callbacks import place_due_callbacks
    from gateway.channels.twilio_calls import CallPlacementError

    services = build_services(Settings.from_env(), callbacks=NoCallbackScheduler())
    while True:
        try:
            placed = place_due_callbacks(services)
        except CallPlacementError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"{placed} call-back{'' if placed == 1 else 's'} placed")
        if every is None:
            return
        time.sleep(every)
