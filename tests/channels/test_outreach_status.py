"""POST /twilio/status/message?m=<row> and /twilio/status/call?o=<row>: signed, the row
named by the URL, delivery state recorded forward only, unknown rows refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.privacy import pseudonym
from gateway.store.audience import AudienceStore
from gateway.store.contacts import ContactStore
from gateway.store.outbound import OutboundRow, OutboundStore
from tests.application.outreach_world import KEY
from tests.conftest import GatewayHarness, RecordingScheduler
from tests.twilio_signing import ACCOUNT_SID, new_sid

PHONE = "+254711000001"
NOW = datetime.now(UTC)


@pytest.fixture(autouse=True)
def outreach_wakes(gateway: GatewayHarness) -> RecordingScheduler:
    """The sending thread's wake-ups, recorded instead of run."""
    recorder = RecordingScheduler()
    gateway.services.outreach = recorder
    return recorder


def sent_row(gateway: GatewayHarness, channel: str = "sms") -> tuple[OutboundStore, OutboundRow]:
    rows = OutboundStore(gateway.services.store.engine)
    rows.materialise([{"outreach_id": "o-1", "pseudonym": pseudonym(KEY, PHONE),
                       "phone": PHONE, "channel": channel, "language": "en",
                       "body": "Reply STOP to stop."}], NOW)
    [row] = rows.claim("o-1", channel, 1, NOW)
    rows.sent(row.id, new_sid("SM" if channel == "sms" else "CA"), NOW)
    found = rows.row(row.id)
    assert found is not None
    return rows, found


def message_form(sid: str, state: str, **extra: str) -> dict[str, str]:
    return {"AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", "To": PHONE,
            "From": "+254700000001", "MessageSid": sid, "SmsSid": sid,
            "MessageStatus": state, "SmsStatus": state, **extra}


def call_form(sid: str, state: str) -> dict[str, str]:
    return {"AccountSid": ACCOUNT_SID, "CallSid": sid, "CallStatus": state, "To": PHONE,
            "From": "+254700000001", "Direction": "outbound-api"}


def test_delivery_is_recorded_on_the_row_the_url_names(gateway: GatewayHarness) -> None:
    rows, row = sent_row(gateway)
    path = f"/twilio/status/message?m={row.id}"
    assert row.provider_sid is not None
    assert gateway.client.post(path, message_form(row.provider_sid, "sent")).status_code == 204
    response = gateway.client.post(path, message_form(row.provider_sid, "delivered"))
    assert response.status_code == 204
    assert rows.counts("o-1")["delivered"] == 1
    late = gateway.client.post(path, message_form(row.provider_sid, "sent"))  # out of order
    assert late.status_code == 204
    assert rows.counts("o-1")["delivered"] == 1  # never backwards


def test_an_unsigned_or_forged_callback_is_refused_and_records_nothing(
    gateway: GatewayHarness,
) -> None:
    rows, row = sent_row(gateway)
    assert row.provider_sid is not None
    form = message_form(row.provider_sid, "delivered")
    path = f"/twilio/status/message?m={row.id}"
    assert gateway.client.post(path, form, signature="").status_code == 403
    other = gateway.client.signature(f"/twilio/status/message?m={row.id + 1}", form)
    assert gateway.client.post(path, form, signature=other).status_code == 403
    call = f"/twilio/status/call?o={row.id}"
    assert gateway.client.post(call, call_form(new_sid("CA"), "completed"),
                               signature="").status_code == 403
    assert rows.counts("o-1")["sent"] == 1


@pytest.mark.parametrize("path", ["/twilio/status/message?m=999",
                                  "/twilio/status/message?m=abc",
                                  "/twilio/status/message"])
def test_an_unknown_or_missing_row_is_a_clear_4xx(gateway: GatewayHarness, path: str) -> None:
    response = gateway.client.post(path, message_form(new_sid(), "delivered"))
    assert response.status_code in (400, 404)
    assert "outreach" in response.get_data(as_text=True)


def test_a_failure_with_21610_opts_the_number_out_and_21211_suppresses_it(
    gateway: GatewayHarness,
) -> None:
    rows, row = sent_row(gateway)
    assert row.provider_sid is not None
    response = gateway.client.post(f"/twilio/status/message?m={row.id}", message_form(
        row.provider_sid, "undelivered", ErrorCode="21610"))
    assert response.status_code == 204
    engine = gateway.services.store.engine
    assert AudienceStore(engine).opted_out(pseudonym(KEY, PHONE))
    assert rows.counts("o-1")["failed"] == 1
    rows.materialise([{"outreach_id": "o-2", "pseudonym": "p2", "phone": "+254711000002",
                       "channel": "sms", "language": "en", "body": "x"}], NOW)
    [second] = rows.claim("o-2", "sms", 1, NOW)
    sid = new_sid()
    rows.sent(second.id, sid, NOW)
    gateway.client.post(f"/twilio/status/message?m={second.id}",
                        message_form(sid, "failed", ErrorCode="21211"))
    assert ContactStore(engine).suppressions() == {"+254711000002": "invalid_number"}


def test_a_completed_call_is_delivered_and_a_busy_one_rings_again(
    gateway: GatewayHarness, outreach_wakes: RecordingScheduler,
) -> None:
    rows, row = sent_row(gateway, "voice")
    assert row.provider_sid is not None
    path = f"/twilio/status/call?o={row.id}"
    assert gateway.client.post(path, call_form(row.provider_sid, "busy")).status_code == 204
    assert rows.counts("o-1")["pending"] == 1  # again later, as call-backs are
    [again] = rows.claim("o-1", "voice", 1, datetime.now(UTC).replace(year=2100))
    rows.sent(again.id, row.provider_sid, NOW)
    assert gateway.client.post(path, call_form(row.provider_sid, "completed")) \
        .status_code == 204
    assert rows.counts("o-1")["delivered"] == 1
    assert len(outreach_wakes.delays) == 2  # each end frees a place under the call cap


def test_a_message_row_is_not_a_call(gateway: GatewayHarness) -> None:
    _, row = sent_row(gateway)
    response = gateway.client.post(f"/twilio/status/call?o={row.id}",
                                   call_form(new_sid("CA"), "completed"))
    assert response.status_code == 404
