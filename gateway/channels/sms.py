"""POST /twilio/sms: Twilio's incoming-message webhook."""

from __future__ import annotations

import logging
from functools import lru_cache

from flask import Blueprint, Response, request
from twilio.twiml.messaging_response import MessagingResponse

from gateway.application.incoming_sms import InboundSms, receive_sms
from gateway.channels import field_shapes
from gateway.channels.phone import to_e164
from gateway.channels.request_helpers import required_field, services, twiml
from gateway.channels.signatures import require_twilio_signature

log = logging.getLogger(__name__)

blueprint = Blueprint("sms", __name__)

HELD_BACK_HEADER = "X-CivicLine-Held-Back"  # why no reply was sent, when one was held back


@blueprint.before_request
def _check_signature() -> None:
    require_twilio_signature(services().settings)


@blueprint.post("/twilio/sms")
def incoming_sms() -> Response:
    message_sid = field_shapes.message_sid(request.form)
    raw_sender = required_field("From")
    body = request.form.get("Body", "")
    sender = to_e164(raw_sender, services().settings.default_region)
    if sender is None:
        # Short codes and alphanumeric senders are bots or operators: never answer them.
        log.info("sms %s from a non-phone sender; no reply", message_sid)
        return twiml(reply_twiml(None))
    outcome = receive_sms(services(), InboundSms(message_sid, sender, body))
    response = twiml(reply_twiml(outcome.reply))
    if outcome.held_back is not None:  # for `civicline simulate sms`; Twilio ignores it
        response.headers[HELD_BACK_HEADER] = outcome.held_back
    return response


@lru_cache(maxsize=2048)
def reply_twiml(reply: str | None) -> str:
    """The TwiML document for one reply (none for None or empty).

    Cached: replies are a consultation's few dozen prompts, and within a webhook the
    SDK's XML writer costs about as much as the store's commit."""
    response = MessagingResponse()
    if reply:
        response.message(reply)
    return str(response)
