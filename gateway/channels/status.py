"""POST /twilio/status: delivery and call status callbacks."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, request

from gateway.calls import handle_call_status
from gateway.channels.security import require_twilio_signature
from gateway.channels.twiml import services

log = logging.getLogger(__name__)

blueprint = Blueprint("status", __name__)

FAILED_MESSAGE_STATES = {"undelivered", "failed"}
FINAL_CALL_STATES = {"completed", "busy", "failed", "no-answer", "canceled"}


@blueprint.before_request
def _check_signature() -> None:
    require_twilio_signature(services().settings)


@blueprint.post("/twilio/status")
def status_callback() -> Response:
    form = request.form
    if "MessageSid" in form:
        state = form.get("MessageStatus", "")
        if state in FAILED_MESSAGE_STATES:
            log.warning("message %s %s (error %s)", form["MessageSid"], state,
                        form.get("ErrorCode", "-"))
        else:
            log.info("message %s %s", form["MessageSid"], state)
    elif "CallSid" in form:
        state = form.get("CallStatus", "")
        log.info("call %s %s", form["CallSid"], state)
        if state in FINAL_CALL_STATES:
            # Closes the call's session; a busy / unanswered call-back is tried again.
            handle_call_status(services(), form["CallSid"], state)
    return Response(status=204)
