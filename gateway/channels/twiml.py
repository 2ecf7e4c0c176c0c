"""Small helpers shared by the Twilio blueprints."""

from __future__ import annotations

from flask import Response, abort, current_app, request

from gateway.services import Services


def twiml(document: object) -> Response:
    return Response(str(document), status=200, mimetype="text/xml")


def required_field(name: str) -> str:
    """A form field Twilio always sends; its absence means the request is not Twilio's."""
    value = request.form.get(name, "").strip()
    if not value:
        abort(400, description=f"missing required field {name}")
    return value


def services() -> Services:
    """The Services of the running app."""
    return current_app.extensions["civicline"]
