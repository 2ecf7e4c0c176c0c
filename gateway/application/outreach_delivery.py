"""What Twilio's status callbacks say about an outreach row: delivered, failed, or (a
busy or unanswered call) to try again, as call-backs are."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from gateway.application import rules
from gateway.application.services import Services
from gateway.store.audience import AudienceStore
from gateway.store.contacts import SUPPRESSION_CODES, ContactStore
from gateway.store.outbound import OutboundStore, RowState

log = logging.getLogger(__name__)

MESSAGE_STATES = {
    "sent": RowState.SENT,
    "delivered": RowState.DELIVERED,
    "read": RowState.DELIVERED,
    "undelivered": RowState.FAILED,
    "failed": RowState.FAILED,
}
FINAL_CALL_STATES = {"completed", "busy", "failed", "no-answer", "canceled"}
OPTED_OUT_CODE = 21610


class UnknownRow(LookupError):
    """The callback names a row this gateway does not have."""


def message_status(services: Services, row_id: int, status: str, message_sid: str,
                   error_code: str | None, now: datetime | None = None) -> bool:
    """Record a message's delivery state; returns whether the row moved."""
    now = now or datetime.now(UTC)
    store = OutboundStore(services.store.engine)
    row = store.row(row_id)
    if row is None or row.channel != "sms":
        raise UnknownRow(f"no outreach message {row_id}")
    state = MESSAGE_STATES.get(status)
    if state is None:  # queued, sending, accepted...: nothing final to record
        return False
    if row.provider_sid and message_sid and row.provider_sid != message_sid:
        log.warning("outreach: status for row %d names %s, not its %s; ignored", row_id,
                    message_sid, row.provider_sid)
        return False
    reason = f"Twilio error {error_code}" if error_code else None
    if state == RowState.FAILED and error_code and error_code.isdigit():
        _provider_refusal(services, row.pseudonym, row.phone, int(error_code), now)
    if state == RowState.DELIVERED and row.state == RowState.SENDING:
        store.provider_status(row_id, RowState.SENT, message_sid, None, now)
    return store.provider_status(row_id, state, message_sid, reason, now)


def call_status(services: Services, row_id: int, status: str, call_sid: str,
                now: datetime | None = None) -> bool:
    """Record an outreach call's final state; a busy or unanswered call rings again later."""
    now = now or datetime.now(UTC)
    store = OutboundStore(services.store.engine)
    row = store.row(row_id)
    if row is None or row.channel != "voice":
        raise UnknownRow(f"no outreach call {row_id}")
    if status not in FINAL_CALL_STATES:
        return False
    if status == "completed":
        if row.state == RowState.SENDING:
            store.provider_status(row_id, RowState.SENT, call_sid, None, now)
        moved = store.provider_status(row_id, RowState.DELIVERED, call_sid, None, now)
    else:
        delay = rules.retry_delay(status, row.attempts)
        if delay is not None:
            moved = store.retry_at(row_id, now + delay, f"call {status}", now)
        else:
            moved = store.provider_status(row_id, RowState.FAILED, call_sid, f"call {status}",
                                          now)
    if services.outreach is not None:
        services.outreach.notify()  # a place under the concurrent-call cap is free
    return moved


def _provider_refusal(services: Services, pseudonym: str, phone: str, code: int,
                      now: datetime) -> None:
    if code == OPTED_OUT_CODE:
        AudienceStore(services.store.engine).opt_out(pseudonym, phone, now)
    elif code in SUPPRESSION_CODES:
        ContactStore(services.store.engine).suppress(phone, SUPPRESSION_CODES[code], now)
