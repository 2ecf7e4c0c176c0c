"""Request helpers for the channels' webhooks: a required form field, a whole number from
an action URL we made, the running app's Services, and a TwiML response.

Shared by the Twilio blueprints (sms.py, voice.py, status.py); no consultation rules and
no signature checks here (signatures.py), ids are read by field_shapes.py."""

from __future__ import annotations

from flask import Response, abort, current_app, request

from gateway.application.services import Services


def twiml(document: object) -> Response:
    """A 200 answer carrying a TwiML document, as Twilio expects it."""
    return Response(str(document), status=200, mimetype="text/xml")


def required_field(name: str) -> str:
    """A form field Twilio always sends; its absence means the request is not Twilio's.
    (Ids are read through gateway.channels.field_shapes, in their documented shape.)"""
    value = request.form.get(name, "").strip()
    if not value:
        abort(400, description=f"missing required field {name}")
    return value


def query_number(name: str, limit: int = 2**31 - 1) -> int | None:
    """A whole number from 0 to `limit` that we put in an action URL; None when absent or
    not such a number (a mangled or forged URL), never one the store cannot hold."""
    raw = request.args.get(name, "")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(limit)):
        return None
    value = int(raw)
    return value if value <= limit else None


def services() -> Services:
    """The Services of the running app."""
    return current_app.extensions["civicline"]
