"""The benchmark's floor: a Flask app that only checks Twilio's signature and answers.

    gunicorn "bench.baseline_app:create_app()"   (TWILIO_AUTH_TOKEN in the environment)

POST /twilio/sms validates X-Twilio-Signature with the Twilio SDK against the request's
own URL and form, exactly as the gateway does by default, and returns one constant TwiML
reply; GET /healthz answers "ok". No store, no Redis, no consultation: what any signed
Twilio webhook costs under the same gunicorn settings.
"""

from __future__ import annotations

import os

from flask import Flask, Response, abort, request
from twilio.request_validator import SIGNATURE_HEADER, RequestValidator
from twilio.twiml.messaging_response import MessagingResponse


def create_app(token: str | None = None) -> Flask:
    token = token if token is not None else os.environ.get("TWILIO_AUTH_TOKEN", "")
    if not token:
        raise RuntimeError("TWILIO_AUTH_TOKEN is not set")
    validator = RequestValidator(token)
    reply = MessagingResponse()
    reply.message("Thank you. What should the county fix first? 1 Water 2 Roads 3 Clinics")
    body = str(reply)

    app = Flask(__name__)

    @app.post("/twilio/sms")
    def incoming_sms() -> Response:
        signature = request.headers.get(SIGNATURE_HEADER, "")
        if not signature or not validator.validate(request.url, request.form, signature):
            abort(403)
        return Response(body, status=200, mimetype="text/xml")

    @app.get("/healthz")
    def health() -> Response:
        return Response("ok\n", mimetype="text/plain")

    return app
