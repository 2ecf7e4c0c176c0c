"""POST /twilio/status: delivery and call status callbacks."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, request

from gateway.application.call_steps import handle_call_status
from gateway.channels import field_shapes
from gateway.channels.request_helpers import services
from gateway.channels.signatures import require_twilio_signature

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
        message_sid = field_shapes.message_sid(form)
        state = field_shapes.state(form, "MessageStatus")
        error = field_shapes.error_code(form)
        if state in FAILED_MESSAGE_STATES:
            log.warning("message %s %s (error %s)", message_sid, state, error or "-")
        else:
            log.info("message %s %s", message_sid, state)
    elif "CallSid" in form:
        call_sid = field_shapes.call_sid(form)
        state = field_shapes.state(form, "CallStatus")
        log.info("call %s %s", call_sid, state)
        if state in FINAL_CALL_STATES:
            # Closes the call's session; a busy / unanswered call-back is tried again.
            handle_call_status(services(), call_sid, state)
    else:
        abort(400, description="missing required field MessageSid or CallSid")
    return Response(status=204)
