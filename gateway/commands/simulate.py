"""`civicline simulate sms` and `simulate call`: take part through a running gateway."""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET

import click

from gateway.channels.sms import HELD_BACK_HEADER
from gateway.commands.signed_webhooks import signed_response
from gateway.settings import Settings

DEFAULT_URL = "http://127.0.0.1:8000"


def send_sms(settings: Settings, url: str, sender: str, to: str, body: str) -> list[str]:
    """Text `body` from `sender` to the gateway at `url`, as Twilio would deliver it;
    returns the replies, or one line saying why there is none."""
    sid = "SM" + secrets.token_hex(16)
    params = {  # as Twilio sends them: the id three times, under its three names
        "MessageSid": sid,
        "SmsSid": sid,
        "SmsMessageSid": sid,
        "AccountSid": settings.twilio_account_sid or "AC" + "0" * 32,
        "ApiVersion": "2010-04-01",
        "From": sender,
        "To": to,
        "Body": body,
        "NumSegments": "1",
        "NumMedia": "0",
    }
    response = signed_response(settings, url, "/twilio/sms", params)
    replies = [f"< {reply}" for reply in sms_reply_texts(response.text)]
    held_back = response.headers.get(HELD_BACK_HEADER)
    if not replies:
        replies = [f"(no reply, held back: {held_back})" if held_back else "(no reply)"]
    return replies


def sms_reply_texts(twiml: str) -> list[str]:
    root = ET.fromstring(twiml)
    return [(message.text or "") for message in root.iter("Message")]


@click.group()
def simulate() -> None:
    """Play a participant against a running gateway, with signed webhooks."""


@simulate.command()
@click.option("--from", "sender", required=True, help="Participant's number, E.164.")
@click.option("--to", "to", default="+254700000001", show_default=True, help="Gateway number.")
@click.option("--url", default=DEFAULT_URL, show_default=True, help="Gateway base URL.")
@click.argument("messages", nargs=-1)
def sms(sender: str, to: str, url: str, messages: tuple[str, ...]) -> None:
    """Send MESSAGES (or, with none, each line typed) and print the replies."""
    settings = Settings.from_env()

    def send(body: str) -> None:
        for line in send_sms(settings, url, sender, to, body):
            click.echo(line)

    if messages:
        for body in messages:
            click.echo(f"> {body}")
            send(body)
        return
    click.echo("Type a message and press Enter (Ctrl-D to quit).")
    while True:
        try:
            body = input("> ")
        except EOFError:
            return
        send(body)


@simulate.command()
@click.option("--from", "caller", required=True, help="Caller's number, E.164.")
@click.option("--to", "to", default="+254700000001", show_default=True,
              help="Number called (picks the consultation by its voice.numbers).")
@click.option("--url", default=DEFAULT_URL, show_default=True, help="Gateway base URL.")
@click.option("--keys", default=None,
              help="Key presses, comma-separated, instead of the keyboard: an empty item is "
              "a silence, # ends a recording (e.g. 1,2,*,1,,#).")
def call(caller: str, to: str, url: str, keys: str | None) -> None:
    """Play a voice call: print what is said, send key presses, follow the TwiML."""
    from gateway.commands.simulate_call import CallSimulator

    presses = keys.split(",") if keys is not None else None
    if presses is None:
        click.echo("Press a key and Enter; Enter alone is a silence; Ctrl-D hangs up.")
    CallSimulator(Settings.from_env(), url, caller, to, presses).run()
