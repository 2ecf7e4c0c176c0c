"""The benchmark's floor: a Flask app that only checks Twilio's signature and answers.

    gunicorn "bench.baseline_app:create_app()"   (TWILIO_AUTH_TOKEN in the environment)

POST /twilio/sms validates X-Twilio-Signature with the Twilio SDK against the request's
own URL and form, exactly as the gateway does by default, and returns one constant TwiML
reply; GET /healthz answers "ok". No store, no Redis, no consultation: what any signed
Twilio webhook costs under the same gunicorn settings.

POST /twilio/voice and POST /twilio/voice/step (bench/voice_step.py) do the same for the
voice line: signature check, then one constant TwiML document shaped like the gateway's
question step (a <Gather> with the prompt nested, then a <Redirect>), whose action URL
always points back to /twilio/voice/step.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from flask import Flask, Response, abort, request
from twilio.request_validator import SIGNATURE_HEADER, RequestValidator
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

VOICE_ACTION = "/twilio/voice/step?n=1&q=priority"
SMS_REPLY = "Thank you. What should the county fix first? 1 Water 2 Roads 3 Clinics"


def auth_token(token: str | None = None) -> str:
    """`token`, else TWILIO_AUTH_TOKEN from the environment; refuses to run without one."""
    token = token if token is not None else os.environ.get("TWILIO_AUTH_TOKEN", "")
    if not token:
        raise RuntimeError("TWILIO_AUTH_TOKEN is not set")
    return token


def signature_check(token: str) -> Callable[[], None]:
    """The check every bench app runs first: the SDK's validation of X-Twilio-Signature
    against the request's own URL and form; 403 when it fails."""
    validator = RequestValidator(token)

    def check_signature() -> None:
        signature = request.headers.get(SIGNATURE_HEADER, "")
        if not signature or not validator.validate(request.url, request.form, signature):
            abort(403)

    return check_signature


def sms_twiml() -> str:
    """The constant SMS reply every bench app but the gateway answers with."""
    reply = MessagingResponse()
    reply.message(SMS_REPLY)
    return str(reply)


def voice_twiml() -> str:
    """A constant question step, as large as the gateway's (about 700 bytes)."""
    response = VoiceResponse()
    response.say("You chose Water points.", voice="Polly.Amy", language="en-GB")
    gather = response.gather(input="dtmf", num_digits=1, timeout=8, action=VOICE_ACTION,
                             method="POST", finish_on_key="")
    for text in ("What should the county fix first?",
                 "For Water points, press 1. For Roads, press 2. For Clinics, press 3. "
                 "For Schools, press 4.",
                 "Press star to repeat."):
        say = gather.say(voice="Polly.Amy", language="en-GB")
        say.prosody(text, rate="85%")
    response.redirect(VOICE_ACTION, method="POST")
    return str(response)


def create_app(token: str | None = None) -> Flask:
    check_signature = signature_check(auth_token(token))
    body = sms_twiml()
    voice_body = voice_twiml()

    app = Flask(__name__)

    @app.post("/twilio/sms")
    def incoming_sms() -> Response:
        check_signature()
        return Response(body, status=200, mimetype="text/xml")

    @app.post("/twilio/voice")
    @app.post("/twilio/voice/step")
    def voice() -> Response:
        check_signature()
        return Response(voice_body, status=200, mimetype="text/xml")

    @app.get("/healthz")
    def health() -> Response:
        return Response("ok\n", mimetype="text/plain")

    return app
