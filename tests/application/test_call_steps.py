"""One voice webhook applied: a call's steps committed once, retried and stale actions,
dropped calls resumed, and missed calls turned into call-back requests within the quota."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.application.call_steps import CallStart, handle_call_start
from gateway.application.callbacks import place_due_callbacks
from gateway.channels.voice_twiml import TwimlRenderer
from gateway.settings import Settings
from gateway.store import schema
from tests.application.callback_calls import PUBLIC, callbacks, settle
from tests.channels.voice_calls import KE, RECORDING, Call
from tests.conftest import FIXTURE_FLOWS, GatewayHarness, make_harness
from tests.stored import answers, call_row, count, events
from tests.twilio_signing import new_sid

# --- durability and retries ---------------------------------------------------------------


def test_retried_action_returns_the_same_twiml_and_records_once(gateway: GatewayHarness) -> None:
    call = Call(gateway.client)
    call.start()
    call.press("1")
    action = call.last.gather.get("action")
    first = call.post(action, Digits="2")
    again = call.post(action, Digits="2")
    assert again.xml == first.xml
    different = call.post(action, Digits="3")  # a replay of the same step, whatever it says
    assert different.xml == first.xml
    assert answers(gateway) == {"priority": ("answered", "roads")}
    assert gateway.trigger.calls == 1
    assert call_row(gateway, call.sid)["position"] == 1


def test_retried_start_replays_the_menu(gateway: GatewayHarness) -> None:
    call = Call(gateway.client)
    first = call.start()
    again = call.start()
    assert again.xml == first.xml
    assert count(gateway, schema.calls) == 1


def test_stale_action_repeats_the_current_question_and_records_nothing(
    gateway: GatewayHarness,
) -> None:
    call = Call(gateway.client)
    call.start()
    call.press("1")
    call.press("1")  # priority answered; now at "enough" (step 3)
    stale = call.post("/twilio/voice/step?n=2&q=enough", Digits="1")  # never sent this way
    assert stale.prompt[0] == "Do you have enough water at home?"
    assert stale.gather.get("action") == "/twilio/voice/step?n=3&q=enough"
    forged = call.post("/twilio/voice/step?n=3&q=priority", Digits="4")
    assert forged.gather.get("action") == "/twilio/voice/step?n=3&q=enough"
    assert answers(gateway) == {"priority": ("answered", "water")}


def test_hang_up_midway_keeps_answers_and_the_next_call_resumes(gateway: GatewayHarness) -> None:
    call = Call(gateway.client)
    call.start()
    call.press("2")
    call.press("3")
    call.press("1")
    call.hang_up()
    assert answers(gateway) == {"priority": ("answered", "clinics"),
                                "enough": ("answered", "yes")}
    row = call_row(gateway, call.sid)
    assert row["status"] == "ended" and row["ended_at"] is not None and row["position"] == 2
    # A late webhook for the closed call changes nothing it should not.
    assert call.hang_up().status_code == 204
    later = Call(gateway.client)
    later.start()
    resumed = later.press("2")
    assert resumed.said[0] == (
        "Karibu tena kwenye Huduma za maji: tunaendelea ulipoishia, swali la 3 kati ya 5."
    )
    assert resumed.prompt[0] == "Umeridhika kiasi gani na huduma za maji?"


def test_a_recording_that_arrives_after_the_hang_up_is_kept(gateway: GatewayHarness) -> None:
    call = Call(gateway.client)
    call.start()
    for key in ("1", "1", "1", "3"):
        call.press(key)
    record_action = call.last.record.get("action")
    call.hang_up()  # the caller hung up while speaking; the status callback came first
    call.post(record_action, RecordingUrl=RECORDING, RecordingDuration="9", Digits="hangup")
    assert answers(gateway)["comment"] == ("answered", RECORDING)
    assert call_row(gateway, call.sid)["status"] == "ended"


def test_unknown_call_sid_on_an_action_starts_over(gateway: GatewayHarness) -> None:
    call = Call(gateway.client)
    menu = call.post("/twilio/voice/step?n=4&q=priority", Digits="1")
    assert menu.prompt == ["For English, press 1.", "Kwa Kiswahili, bonyeza 2."]
    assert events(gateway) == []


def test_action_from_another_number_changes_nothing(gateway: GatewayHarness) -> None:
    call = Call(gateway.client)
    call.start()
    question = call.press("1")
    before = call_row(gateway, call.sid)
    other = Call(gateway.client, caller="+254722000111", sid=call.sid)
    answer = other.post(question.gather.get("action"), Digits="2")
    assert answer.said == ["Goodbye."] and answer.hangs_up
    assert call_row(gateway, call.sid) == before
    assert events(gateway) == []


# --- voice and SMS together ---------------------------------------------------------------


def test_voice_and_sms_answers_land_in_the_same_events(gateway: GatewayHarness) -> None:
    gateway.client.sms(KE, "WATER")
    gateway.client.sms(KE, "2")
    call = Call(gateway.client)
    call.start()
    call.press("1")
    call.press("2")  # the call continues at question 2
    rows = events(gateway)
    assert [(r["question_id"], r["channel"], r["value"]) for r in rows] == [
        ("priority", "sms", "roads"),
        ("enough", "voice", "no"),
    ]
    assert len({r["pseudonym"] for r in rows}) == 1  # one participant, two channels
    assert count(gateway, schema.participants) == 1


def test_voice_steps_do_not_use_up_the_sms_reply_cap(settings: Settings) -> None:
    gateway = make_harness(settings.with_overrides(replies_per_hour=2))
    call = Call(gateway.client)
    call.start()
    for key in ("1", "1", "1", "1"):
        call.press(key)
    assert gateway.client.sms(KE, "WATER").replies  # still answered by SMS


def test_opted_out_numbers_may_still_call(gateway: GatewayHarness) -> None:
    gateway.client.sms(KE, "STOP")
    call = Call(gateway.client)
    call.start()
    call.press("1")
    call.press("4")
    assert answers(gateway) == {"priority": ("answered", "schools")}


# --- missed calls: call-back requests -------------------------------------------------------


def test_a_second_missed_call_while_one_is_waiting_adds_nothing(
    callback_gateway: GatewayHarness,
) -> None:
    Call(callback_gateway.client).start()
    Call(callback_gateway.client).start()
    assert len(callbacks(callback_gateway)) == 1


def test_retried_start_does_not_request_twice(callback_gateway: GatewayHarness) -> None:
    call = Call(callback_gateway.client)
    first = call.start()
    assert call.start().xml == first.xml
    assert len(callbacks(callback_gateway)) == 1


def test_call_backs_are_limited_per_number_per_day(
    callback_gateway: GatewayHarness, caplog: pytest.LogCaptureFixture
) -> None:
    limit = callback_gateway.services.settings.callbacks_per_day
    assert limit == 3
    for _ in range(limit):
        assert Call(callback_gateway.client).start().verbs == ["Reject"]
        place_due_callbacks(callback_gateway.services)
        settle(callback_gateway)
    assert len(callbacks(callback_gateway)) == limit
    with caplog.at_level(logging.WARNING, logger="callback_gateway.application.call_steps"):
        over = Call(callback_gateway.client).start()
    assert over.verbs == ["Reject"]  # the caller hears nothing different, and pays nothing
    assert len(callbacks(callback_gateway)) == limit
    assert place_due_callbacks(callback_gateway.services) == 0
    assert "+*********678" in caplog.text and KE not in caplog.text
    assert "call-back limit (3 a day) reached" in caplog.text
    # another number is not limited by this one
    Call(callback_gateway.client, caller="+254722000111").start()
    assert len(callbacks(callback_gateway)) == limit + 1


def test_the_limit_is_a_rolling_day(callback_gateway: GatewayHarness) -> None:
    services = callback_gateway.services
    render = TwimlRenderer(services.settings, PUBLIC).render
    start = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)

    def missed(sid: str, at: datetime) -> str:
        return handle_call_start(services, CallStart(sid, KE, "water-test", inbound=True),
                                 render, now=at)

    for n in range(3):
        at = start + timedelta(hours=n)
        missed(new_sid("CA"), at)
        place_due_callbacks(services, now=at)
        settle(callback_gateway)
    missed(new_sid("CA"), start + timedelta(hours=23))
    assert len(callbacks(callback_gateway)) == 3
    missed(new_sid("CA"), start + timedelta(hours=24, minutes=1))
    assert len(callbacks(callback_gateway)) == 4


def test_closed_consultation_is_not_called_back(settings: Settings, tmp_path: Path) -> None:
    flows = tmp_path / "closed"
    flows.mkdir()
    text = (FIXTURE_FLOWS / "closed.yaml").read_text(encoding="utf-8")
    (flows / "closed.yaml").write_text(
        text + 'voice:\n  numbers: ["+254700000002"]\n  callback: true\n', encoding="utf-8")
    gateway = make_harness(settings.with_overrides(flows_dir=flows))
    twiml = Call(gateway.client, called="+254700000002").start()
    assert twiml.said == ["Roads survey is closed. Thank you for your interest."]
    assert callbacks(gateway) == []


# --- one person, two channels -------------------------------------------------------------


def test_a_call_continues_where_the_participants_texts_stopped(gateway: GatewayHarness) -> None:
    sms = gateway.client.sms
    sms(KE, "WATER")
    sms(KE, "2")
    sms(KE, "yes")
    call = Call(gateway.client)
    call.start()
    resumed = call.press("1")  # English
    assert resumed.said[0] == (
        "Welcome back to Water services: we continue where you stopped, at question 3 of 5."
    )
    assert resumed.prompt[0] == "How satisfied are you with water services?"
    call.press("4")
    assert answers(gateway) == {
        "priority": ("answered", "roads"),
        "enough": ("answered", "yes"),
        "satisfaction": ("answered", "4"),
    }
    assert {e["question_id"]: e["channel"] for e in events(gateway)} == {
        "priority": "sms", "enough": "sms", "satisfaction": "voice"
    }


def test_a_call_after_finishing_by_sms_starts_afresh(gateway: GatewayHarness) -> None:
    for body in ("WATER", "2", "yes", "4", "SKIP", "1"):
        gateway.client.sms(KE, body)
    call = Call(gateway.client)
    call.start()
    assert call.press("1").said[0].startswith("Welcome to Water services. There are 5")
