"""POST /twilio/status/message?m=<row> and /twilio/status/call?o=<row>: the delivery
state of outreach messages and calls, the row named by the URL we gave Twilio. Signed
like every Twilio route; a row this gateway does not have is a 404 and records nothing."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, request

from gateway.application.call_steps import handle_call_status
from gateway.application.outreach_delivery import (
    FINAL_CALL_STATES,
    UnknownRow,
    call_status,
    message_status,
)
from gateway.channels import field_shapes
from gateway.channels.request_helpers import query_number, services
from gateway.channels.signatures import require_twilio_signature

log = logging.getLogger(__name__)

blueprint = Blueprint("outreach_status", __name__)


@blueprint.before_request
def _check_signature() -> None:
    require_twilio_signature(services().settings)


def _row_id(name: str) -> int:
    row_id = query_number(name)
    if row_id is None:
        abort(400, description=f"missing or invalid outreach row {name}")
    return row_id


@blueprint.post("/twilio/status/message")
def message_callback() -> Response:
    row_id = _row_id("m")
    sid = field_shapes.message_sid(request.form)
    state = field_shapes.state(request.form, "MessageStatus")
    if not state:
        abort(400, description="missing required field MessageStatus")
    try:
        message_status(services(), row_id, state, sid, field_shapes.error_code(request.form))
    except UnknownRow as exc:
        abort(404, description=str(exc))
    return Response(status=204)


@blueprint.post("/twilio/status/call")
def call_callback() -> Response:
    row_id = _row_id("o")
    sid = field_shapes.call_sid(request.form)
    state = field_shapes.state(request.form, "CallStatus")
    if not state:
        abort(400, description="missing required field CallStatus")
    try:
        call_status(services(), row_id, state, sid)
    except UnknownRow as exc:
        abort(404, description=str(exc))
    if state in FINAL_CALL_STATES:
        handle_call_status(services(), sid, state)  # closes the call's voice session
    return Response(status=204)
