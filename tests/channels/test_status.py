"""POST /twilio/status: message and call status callbacks, read in their documented shapes."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from gateway.store import schema
from tests.channels.voice_calls import KE, LINE, Call
from tests.conftest import GatewayHarness
from tests.twilio_signing import ACCOUNT_SID, new_sid


def message_status(sid: str, state: str, **extra: str) -> dict[str, str]:
    return {"AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", "From": LINE, "To": KE,
            "MessageSid": sid, "SmsSid": sid, "MessageStatus": state, "SmsStatus": state,
            **extra}


def call_status(gateway: GatewayHarness, sid: str) -> str:
    with gateway.services.store.engine.connect() as conn:
        return conn.execute(select(schema.calls.c.status)
                            .where(schema.calls.c.call_sid == sid)).scalar_one()


def test_message_states_are_logged(gateway: GatewayHarness,
                                   caplog: pytest.LogCaptureFixture) -> None:
    sid = new_sid()
    with caplog.at_level(logging.INFO, logger="gateway.channels.status"):
        delivered = gateway.client.post("/twilio/status", message_status(sid, "delivered"))
        failed = gateway.client.post("/twilio/status", message_status(
            sid, "undelivered", ErrorCode="30003"))
    assert (delivered.status_code, failed.status_code) == (204, 204)
    assert f"message {sid} delivered" in caplog.text
    assert f"message {sid} undelivered (error 30003)" in caplog.text


@pytest.mark.parametrize(("fields", "message"), [
    ({"MessageSid": "SM" + "0" * 32 + "MessageStatusdelivered"},
     "MessageSid must be SM or MM followed by 32 lower-case hex digits"),
    ({"SmsSid": "SM" + "f" * 32}, "SmsSid must equal MessageSid"),
    ({"MessageStatus": "deliveredSmsSid"}, "MessageStatus must be a lower-case word"),
    ({"ErrorCode": "30003From+254700000001"}, "ErrorCode must be a whole number"),
])
def test_malformed_message_callbacks_are_refused(gateway: GatewayHarness,
                                                 fields: dict[str, str], message: str) -> None:
    sid = "SM" + "0" * 32
    response = gateway.client.post("/twilio/status", {**message_status(sid, "delivered"),
                                                      **fields})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_a_final_call_state_ends_the_call(gateway: GatewayHarness) -> None:
    call = Call(gateway.client)
    call.start()
    assert call_status(gateway, call.sid) == "active"
    call.hang_up("completed")
    assert call_status(gateway, call.sid) == "ended"


@pytest.mark.parametrize(("fields", "message"), [
    ({"CallStatus": "completedCalled" + LINE}, "CallStatus must be a lower-case word"),
    ({"CallStatus": ["completed", "completed"]}, "CallStatus must be sent once"),
    ({"CallSid": "CA" + "0" * 31}, "CallSid must be CA followed by 32 lower-case hex digits"),
    ({"AccountSid": "AC" + "0" * 32 + "ApiVersion2010-04-01"}, "AccountSid must be AC"),
])
def test_malformed_call_callbacks_are_refused_and_end_nothing(
    gateway: GatewayHarness, fields: dict[str, str], message: str
) -> None:
    call = Call(gateway.client)
    call.start()
    response = gateway.client.post("/twilio/status", {**call.params(CallStatus="completed"),
                                                      **fields})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert call_status(gateway, call.sid) == "active"


def test_a_callback_without_an_id_is_refused(gateway: GatewayHarness) -> None:
    response = gateway.client.post("/twilio/status", {"CallStatus": "completed", "From": KE})
    assert response.status_code == 400
    assert "missing required field MessageSid or CallSid" in response.get_data(as_text=True)
