"""The `civicline` console script."""

from __future__ import annotations

import logging
import os

import click

from gateway.commands.callbacks import callbacks
from gateway.commands.central import central
from gateway.commands.contacts import contacts
from gateway.commands.flows import flows
from gateway.commands.officials import export, officials
from gateway.commands.outbox import outbox, simulate_outreach
from gateway.commands.outreach import outreach
from gateway.commands.server import db, serve, worker
from gateway.commands.simulate import simulate
from gateway.commands.sync import status, sync
from gateway.consultation.reading import FlowsInvalid
from gateway.settings import SettingsError


@click.group()
def cli() -> None:
    """CivicLine: SMS and voice participation in public consultations."""
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # The twilio client logs every request and its headers at INFO: ten lines a message.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)


for command in (serve, worker, db, flows, simulate, central, sync, status, export, officials,
                callbacks, outreach, contacts, outbox):
    cli.add_command(command)
simulate.add_command(simulate_outreach)


def main() -> None:
    try:
        cli()
    except SettingsError as exc:
        raise SystemExit(f"civicline: configuration error: {exc}") from exc
    except FlowsInvalid as exc:
        raise SystemExit(f"civicline: consultation files are not valid:\n{exc}") from exc
