"""`civicline outbox` and `civicline simulate outreach`: what outreach sent, or, without
Twilio credentials, what the sandbox recorded as sent."""

from __future__ import annotations

import click

from gateway.application.outreach_runner import rate_limiter
from gateway.application.outreach_sending import OutreachRun, SendReport
from gateway.application.regions import load_region_prefixes
from gateway.application.services import open_local_store
from gateway.channels.phone import to_e164
from gateway.channels.twilio_messages import sender_for
from gateway.privacy import mask_number
from gateway.settings import Settings
from gateway.store.outbound import OutboundStore
from gateway.store.participants import LocalStore


def send_now(settings: Settings, store: LocalStore) -> SendReport:
    """One sending pass in this process (the sandbox, or Twilio when configured)."""
    run = OutreachRun(store.engine, settings, sender_for(settings), rate_limiter(settings),
                      load_region_prefixes(settings.regions_file))
    return run.run()


def _number(settings: Settings, raw: str | None) -> str | None:
    if raw is None:
        return None
    number = to_e164(raw, settings.default_region)
    if number is None:
        raise click.BadParameter(f"not a phone number: {mask_number(raw)}", param_hint="--to")
    return number


@click.command()
@click.option("--to", "to", default=None, help="Only what was sent to this number.")
@click.option("--send", is_flag=True, help="Send the outreach that is due first.")
def outbox(to: str | None, send: bool) -> None:
    """What the sandbox sender recorded (sent without Twilio), oldest first."""
    settings = Settings.from_env()
    store = open_local_store(settings)
    number = _number(settings, to)
    if send:
        click.echo(f"sent: {send_now(settings, store).as_dict()}")
    found = OutboundStore(store.engine).sandbox_messages(number)
    if not found:
        click.echo("the sandbox outbox is empty")
    for row, at in found:
        click.echo(f"{at.isoformat(timespec='seconds')} {row.outreach_id} {row.channel} "
                   f"to {mask_number(row.phone)} ({row.language}, {row.state}): {row.body}")


@click.command("outreach")
@click.option("--to", "to", required=True, help="The participant's number, E.164.")
def simulate_outreach(to: str) -> None:
    """Send the outreach that is due, and print what arrived for this number (answer it
    with `civicline simulate sms --from NUMBER`)."""
    settings = Settings.from_env()
    store = open_local_store(settings)
    number = _number(settings, to)
    send_now(settings, store)
    found = OutboundStore(store.engine).sandbox_messages(number)
    if not found:
        click.echo("(nothing arrived for this number)")
    for row, _ in found:
        kind = "call" if row.channel == "voice" else "SMS"
        click.echo(f"< {kind} from outreach {row.outreach_id}: {row.body}")
