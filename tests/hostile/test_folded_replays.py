"""Replay by folding, on every Twilio route.

X-Twilio-Signature joins the parameters' names and values with no separator, so a captured
request stays validly signed when the next field's name and value are folded into a value:
`MessageSid=SM…` and `NumMedia=0` become `MessageSid=SM…NumMedia0`, which is a new id to
deduplicate on. Each test captures a genuine signed request, checks that the SDK's
validator accepts the folded one with the same signature, and posts it: an id that a
fold lengthened is refused with a 400 that names it, and no fold records anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

from gateway.privacy import pseudonym
from gateway.store import schema
from tests.channels.voice_calls import KE, LINE, Call
from tests.conftest import TEST_TOKEN, GatewayHarness
from tests.twilio_signing import ACCOUNT_SID, message_texts, new_sid, recording_url

BASE_URL = "http://localhost"  # where TwilioClient posts, and so the URL it signs
# The ids a route reads: a fold into one is always refused, by name.
IDS = {"MessageSid", "SmsSid", "SmsMessageSid", "CallSid", "AccountSid", "RecordingSid"}
SHAPE_OF = {
    "MessageSid": "SM or MM followed by 32 lower-case hex digits",
    "CallSid": "CA followed by 32 lower-case hex digits",
}


def sms_form(sid: str, sender: str, body: str) -> dict[str, str]:
    """Twilio's incoming-message webhook, every field it sends (no Messaging Service)."""
    return {
        "ToCountry": "KE", "ToState": "", "SmsMessageSid": sid, "NumMedia": "0", "ToCity": "",
        "FromZip": "", "SmsSid": sid, "FromState": "", "SmsStatus": "received", "FromCity": "",
        "Body": body, "FromCountry": "KE", "To": LINE, "ToZip": "", "NumSegments": "1",
        "MessageSid": sid, "AccountSid": ACCOUNT_SID, "From": sender, "ApiVersion": "2010-04-01",
    }


def fold(params: dict[str, str], into: str, count: int = 1) -> dict[str, str]:
    """`params` with the `count` fields after `into` (in signing order) folded into it."""
    names = sorted(params)
    start = names.index(into) + 1
    moved = names[start:start + count]
    folded = {name: value for name, value in params.items() if name not in moved}
    folded[into] = params[into] + "".join(name + params[name] for name in moved)
    return folded


def folds(params: dict[str, str]) -> Iterator[tuple[str, list[str], dict[str, str]]]:
    """Every fold of one or two fields into the field before them: (into, moved, form)."""
    names = sorted(params)
    for index, into in enumerate(names):
        for count in (1, 2):
            if index + count < len(names):
                yield into, names[index + 1:index + 1 + count], fold(params, into, count)


def snapshot(gateway: GatewayHarness) -> dict[str, list[str]]:
    """Every row of every table of the gateway's store."""
    with gateway.services.store.engine.connect() as conn:
        return {table.name: sorted(repr(tuple(row)) for row in conn.execute(select(table)))
                for table in schema.metadata.sorted_tables}


def opted_out(gateway: GatewayHarness, number: str = KE) -> bool:
    who = pseudonym(gateway.services.settings.pseudonym_key, number)
    with gateway.services.store.engine.connect() as conn:
        return conn.execute(select(schema.participants.c.opted_out)
                            .where(schema.participants.c.pseudonym == who)).scalar_one()


def post_captured(gateway: GatewayHarness, url: str, params: dict[str, str],
                  signature: str) -> TestResponse:
    """Post a (possibly folded) capture with the signature it was captured with, after
    checking that the SDK's validator accepts that signature for it."""
    assert RequestValidator(TEST_TOKEN).validate(BASE_URL + url, params, signature), params
    return gateway.client.post(url, params, signature=signature)


# --- the audit's case: a folded STOP ----------------------------------------------------------


def test_a_folded_stop_is_refused_and_changes_nothing(gateway: GatewayHarness) -> None:
    client = gateway.client
    sid = new_sid()
    stop = sms_form(sid, KE, "STOP")
    signature = client.signature("/twilio/sms", stop)
    genuine = post_captured(gateway, "/twilio/sms", stop, signature)
    assert genuine.status_code == 200
    assert opted_out(gateway)
    client.sms(KE, "START")  # the participant changes their mind
    assert not opted_out(gateway)
    before = snapshot(gateway)

    folded = dict(stop, MessageSid=sid + "NumMedia0")
    del folded["NumMedia"]
    response = post_captured(gateway, "/twilio/sms", folded, signature)

    assert response.status_code == 400
    assert ("MessageSid must be SM or MM followed by 32 lower-case hex digits"
            in response.get_data(as_text=True))
    assert snapshot(gateway) == before  # no inbound row, no event, no outbox row
    assert not opted_out(gateway)
    # The genuine one sent again is a retry: its old reply, nothing new.
    assert post_captured(gateway, "/twilio/sms", stop, signature).data == genuine.data
    assert snapshot(gateway) == before


def test_a_folded_answer_is_not_recorded_for_the_next_question(gateway: GatewayHarness) -> None:
    client = gateway.client
    client.sms(KE, "WATER")
    answer = sms_form(new_sid(), KE, "1")  # "1" to the first question, priority
    signature = client.signature("/twilio/sms", answer)
    assert post_captured(gateway, "/twilio/sms", answer, signature).status_code == 200
    before = snapshot(gateway)
    folded = fold(answer, "MessageSid")  # would answer "1" (yes) to the next one, enough
    response = post_captured(gateway, "/twilio/sms", folded, signature)
    assert response.status_code == 400
    assert snapshot(gateway) == before
    with gateway.services.store.engine.connect() as conn:
        assert conn.execute(select(schema.events.c.question_id)).scalars().all() == ["priority"]


def test_a_folded_call_id_does_not_start_a_call(gateway: GatewayHarness) -> None:
    call = Call(gateway.client)
    call.start()
    assert call.last is not None and call.last.gather is not None
    url = call.last.gather.get("action", "").removeprefix(BASE_URL)
    press = call.params(Digits="1")
    signature = gateway.client.signature(url, press)
    assert post_captured(gateway, url, press, signature).status_code == 200
    before = snapshot(gateway)
    response = post_captured(gateway, url, fold(press, "CallSid"), signature)
    assert response.status_code == 400
    assert "CallSid must be CA followed by 32" in response.get_data(as_text=True)
    assert snapshot(gateway) == before


# --- every fold of a genuine request, on every route --------------------------------------


@dataclass
class Captured:
    url: str
    params: dict[str, str]
    accepted: int  # the route's answer to the genuine request


def capture_sms_answer(gateway: GatewayHarness) -> Captured:
    gateway.client.sms(KE, "WATER")
    return Captured("/twilio/sms", sms_form(new_sid(), KE, "1"), 200)


def capture_sms_stop(gateway: GatewayHarness) -> Captured:
    return Captured("/twilio/sms", sms_form(new_sid("MM"), KE, "STOP"), 200)


def capture_call_start(gateway: GatewayHarness) -> Captured:
    call = Call(gateway.client)
    return Captured("/twilio/voice", call.params(CallStatus="ringing", CallerCountry="KE",
                                                 FromCountry="KE", CalledCountry="KE"), 200)


def _to_the_comment(gateway: GatewayHarness) -> Call:
    call = Call(gateway.client)
    call.start()
    for key in ("1", "1", "1", "3"):
        call.press(key)
    assert call.last is not None and call.last.record is not None
    return call


def capture_key(gateway: GatewayHarness) -> Captured:
    call = Call(gateway.client)
    call.start()
    assert call.last is not None and call.last.gather is not None
    url = call.last.gather.get("action", "").removeprefix(BASE_URL)
    return Captured(url, call.params(Digits="2"), 200)


def capture_recording(gateway: GatewayHarness) -> Captured:
    call = _to_the_comment(gateway)
    assert call.last is not None and call.last.record is not None
    url = call.last.record.get("action", "").removeprefix(BASE_URL)
    sid = new_sid("RE")
    return Captured(url, call.params(RecordingUrl=recording_url(sid), RecordingSid=sid,
                                     RecordingDuration="12", Digits="#"), 200)


def capture_message_status(gateway: GatewayHarness) -> Captured:
    sid = new_sid()
    return Captured("/twilio/status", {
        "AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", "ErrorCode": "30003",
        "From": LINE, "MessageSid": sid, "MessageStatus": "undelivered", "SmsSid": sid,
        "SmsStatus": "undelivered", "To": KE}, 204)


def capture_call_status(gateway: GatewayHarness) -> Captured:
    call = Call(gateway.client)
    call.start()
    call.press("1")
    return Captured("/twilio/status", call.params(CallStatus="completed", CallDuration="42"),
                    204)


CAPTURES: dict[str, Callable[[GatewayHarness], Captured]] = {
    "sms answer": capture_sms_answer,
    "sms stop": capture_sms_stop,
    "call start": capture_call_start,
    "key press": capture_key,
    "recording": capture_recording,
    "message status": capture_message_status,
    "call status": capture_call_status,
}


@pytest.mark.parametrize("capture", CAPTURES.values(), ids=CAPTURES.keys())
def test_no_fold_of_a_genuine_request_records_anything(
    gateway: GatewayHarness, capture: Callable[[GatewayHarness], Captured]
) -> None:
    captured = capture(gateway)
    signature = gateway.client.signature(captured.url, captured.params)
    genuine = post_captured(gateway, captured.url, captured.params, signature)
    assert genuine.status_code == captured.accepted, genuine.get_data(as_text=True)
    before = snapshot(gateway)
    tried = 0
    for into, moved, folded in folds(captured.params):
        response = post_captured(gateway, captured.url, folded, signature)
        text = response.get_data(as_text=True)
        assert response.status_code in (400, captured.accepted), (into, text)
        if into in IDS:  # refused, naming the lengthened id (or an id the fold removed)
            assert response.status_code == 400, (into, text)
            named = [f"{into} must be {SHAPE_OF.get(into, '')}"]
            named += [f"missing required field {name}" for name in moved if name in IDS]
            assert any(message in text for message in named), (into, moved, text)
        if response.status_code == 200 and captured.url == "/twilio/sms":
            # A fold the SMS route cannot see (it moved a field it does not read) is a retry
            # of the genuine message: its reply again, or none for a sender it cannot read.
            assert message_texts(text) in (message_texts(genuine.get_data(as_text=True)), [])
        assert snapshot(gateway) == before, (into, folded)
        tried += 1
    assert tried >= 2 * len(captured.params) - 3
