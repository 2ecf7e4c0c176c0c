"""The voice line end to end: signed webhooks, real SQLite, TwiML parsed as XML; the
routes' refusals and the prompts' audio route."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.settings import Settings
from gateway.store import schema
from tests.channels.voice_calls import KE, RECORDING, Call
from tests.conftest import GatewayHarness, make_harness
from tests.stored import answers, call_row, count, events, participant_language

# --- whole calls ----------------------------------------------------------------------------


def test_whole_call_in_english(gateway: GatewayHarness) -> None:
    call = Call(gateway.client)
    call.start()
    call.press("1")  # English
    assert call.press("1").said[0] == "You chose Water points."
    satisfaction = call.press("1")
    assert satisfaction.said[0] == "You chose Yes."
    assert "Press a key from 1 to 5." in satisfaction.prompt
    comment = call.press("4")
    assert comment.said[0] == "You chose 4."
    assert comment.verbs == ["Say", "Gather", "Record", "Redirect"]
    assert comment.prompt == [
        "Any other comment?", "Press 0 to skip.", "Press star to repeat.",
        "After the beep, say your comment, then press hash.",
    ]
    assert comment.gather.get("timeout") == "1"  # then the beep
    record = comment.record
    assert record.attrib == {
        "action": "/twilio/voice/step?n=5&q=comment&r=1",
        "method": "POST",
        "finishOnKey": "#",
        "maxLength": "120",
        "playBeep": "true",
        "timeout": "8",
        "trim": "trim-silence",
    }
    assert comment.redirect == record.get("action")  # an empty recording falls through
    age = call.record(RECORDING, 12)
    assert age.said[0] == "Thank you. Your comment was recorded."
    assert age.prompt[1].endswith("Press 0 to skip.")
    done = call.press("2")
    assert done.said == ["You chose 18 to 34.", "Thank you for your voice.", "Goodbye."]
    assert done.hangs_up and done.gather is None
    assert answers(gateway) == {
        "priority": ("answered", "water"),
        "enough": ("answered", "yes"),
        "satisfaction": ("answered", "4"),
        "comment": ("answered", RECORDING),
        "age_band": ("answered", "18_34"),
    }
    rows = events(gateway)
    assert {r["channel"] for r in rows} == {"voice"}
    assert {r["language"] for r in rows} == {"en"}
    assert rows[3]["raw"] == "duration=12s"
    assert [r["raw"] for r in rows if r["question_id"] != "comment"] == ["1", "1", "4", "2"]
    assert all(r["region"] for r in rows)
    assert gateway.trigger.calls == 5  # one wake-up per committed answer
    state = call_row(gateway, call.sid)
    assert (state["status"], state["position"], state["language"]) == ("finished", 5, "en")
    assert participant_language(gateway) == "en"
    call.hang_up()
    assert call_row(gateway, call.sid)["ended_at"] is not None


def test_whole_call_in_swahili_with_star_silence_and_invalid_keys(
    gateway: GatewayHarness,
) -> None:
    call = Call(gateway.client)
    call.start()
    first = call.press("2")
    assert first.said[0].startswith("Karibu kwenye Huduma za maji.")
    again = call.press("*")
    # the same question, without the welcome, and "press star" is said only the first time
    assert again.said == [s for s in first.said[1:] if s != "Bonyeza nyota kusikiliza tena."]
    assert "Bonyeza nyota kusikiliza tena." in first.said
    assert gateway.trigger.calls == 0
    quiet = call.stay_silent()
    assert quiet.said[0] == "Hatukusikia kitufe chochote."
    assert quiet.prompt[0] == "Kaunti irekebishe nini kwanza?"
    wrong = call.press("8")
    assert wrong.said[0] == "Kitufe hicho si sahihi. Bonyeza kitufe kutoka 1 hadi 4."
    assert call.press("2").said[0] == "Umechagua Barabara."
    assert call.press("2").said[0] == "Umechagua Hapana."
    call.press("5")
    comment = call.last
    assert comment.record is not None
    skipped = call.press("0")  # pressed during the comment's prompt: skip it
    assert skipped.said[0] == "Umeruka swali hili."
    done = call.stay_silent()
    done = call.stay_silent()
    done = call.stay_silent()
    assert done.said[:2] == ["Hatukusikia kitufe chochote.", "Twende kwenye swali linalofuata."]
    assert done.said[-1] == "Kwaheri." and done.hangs_up
    assert answers(gateway) == {
        "priority": ("answered", "roads"),
        "enough": ("answered", "no"),
        "satisfaction": ("answered", "5"),
        "comment": ("skipped", None),
        "age_band": ("no_answer", None),
    }
    assert {e["language"] for e in events(gateway)} == {"sw"}
    assert participant_language(gateway) == "sw"


def test_silence_twice_then_the_question_is_left_unanswered(gateway: GatewayHarness) -> None:
    call = Call(gateway.client)
    call.start()
    call.press("1")
    for _ in range(2):
        repeat = call.stay_silent()
        assert repeat.said[0] == "We did not hear a key."
        assert repeat.prompt[0] == "What should the county fix first?"
        assert events(gateway) == []
    moved = call.stay_silent()
    assert moved.said[:2] == ["We did not hear a key.", "Let us go to the next question."]
    assert moved.prompt[0] == "Do you have enough water at home?"
    assert answers(gateway) == {"priority": ("no_answer", None)}


def test_invalid_keys_three_times_record_unparsed(gateway: GatewayHarness) -> None:
    call = Call(gateway.client)
    call.start()
    call.press("1")
    for key in ("9", "#"):
        assert call.press(key).said[0] == "That key is not valid. Press a key from 1 to 4."
    moved = call.press("0")
    assert moved.said[:2] == ["That key is not valid.", "Let us go to the next question."]
    assert answers(gateway) == {"priority": ("unparsed", None)}
    assert events(gateway)[0]["raw"] == "0"


def test_empty_recordings_count_as_no_answer(gateway: GatewayHarness) -> None:
    for caller, finish in (("+254722000001", "redirect"), ("+254722000002", "zero")):
        call = Call(gateway.client, caller=caller)
        call.start()
        for key in ("1", "1", "1", "3"):
            call.press(key)
        assert call.last.record is not None
        if finish == "redirect":  # Twilio skips the action when nothing was recorded
            moved = call.stay_silent()
        else:
            moved = call.record(RECORDING, 0)
        assert moved.said[0] == "We did not hear a comment."
        assert moved.prompt[0] == "Your age?"
    comments = [e for e in events(gateway) if e["question_id"] == "comment"]
    assert [(e["status"], e["value"]) for e in comments] == [("no_answer", None)] * 2


def test_key_during_the_comment_prompt_goes_straight_to_the_beep(
    gateway: GatewayHarness,
) -> None:
    call = Call(gateway.client)
    call.start()
    for key in ("1", "1", "1", "3"):
        call.press(key)
    ready = call.press("5")
    assert ready.verbs == ["Say", "Record", "Redirect"]
    assert ready.said == ["After the beep, say your comment, then press hash."]
    call.record(RECORDING, 30)
    assert answers(gateway)["comment"] == ("answered", RECORDING)


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/twilio/voice", "/twilio/voice/step?n=1&q=_language"])
def test_unsigned_voice_webhooks_are_refused(gateway: GatewayHarness, path: str) -> None:
    call = Call(gateway.client)
    params = call.params(Digits="1")
    assert gateway.client.post(path, params, signature="bm90IGl0").status_code == 403
    tampered = dict(params, Digits="2")
    good = gateway.client.signature(path, params)
    assert gateway.client.post(path, tampered, signature=good).status_code == 403
    assert count(gateway, schema.calls) == 0
    assert count(gateway, schema.inbound) == 0


def test_step_without_its_number_is_400(gateway: GatewayHarness) -> None:
    call = Call(gateway.client)
    response = gateway.client.post("/twilio/voice/step", call.params(Digits="1"))
    assert response.status_code == 400


@pytest.mark.parametrize(("field", "value", "message"), [
    ("Digits", "1Directioninbound", "Digits must be only the keys 0-9, * and #, or hangup"),
    ("Digits", "one", "Digits must be only the keys"),
    ("Digits", "1 ", "Digits must be only the keys"),
    ("Direction", "inboundFrom" + KE, "Direction must be a lower-case word"),
    ("Caller", KE + "CallerCountryKE", "Caller must equal From"),
    ("Called", "+254700000001CalledCountryKE", "Called must equal To"),
])
def test_a_key_press_in_a_malformed_field_is_refused(
    gateway: GatewayHarness, field: str, value: str, message: str
) -> None:
    call = Call(gateway.client)
    menu = call.start()
    assert menu.gather is not None
    before = [count(gateway, table) for table in (schema.inbound, schema.events, schema.calls)]
    response = gateway.client.post(menu.gather.get("action", ""),
                                   call.params(**{"Digits": "1", field: value}))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert [count(gateway, table) for table in (schema.inbound, schema.events, schema.calls)] \
        == before
    assert call.press("1").prompt[0] == "What should the county fix first?"  # still at the menu


@pytest.mark.parametrize(("fields", "message"), [
    ({"RecordingDuration": "12RecordingSid"}, "RecordingDuration must be a whole number"),
    ({"RecordingDuration": "-1"}, "RecordingDuration must be a whole number"),
    ({"RecordingUrl": RECORDING + "To+254700000001"}, "RecordingUrl must be https://<host>/"),
    ({"RecordingSid": "RE" + "f" * 32}, "RecordingUrl must name the recording RecordingSid"),
    ({"RecordingSid": RECORDING[-34:] + "RecordingUrl"}, "RecordingSid must be RE followed by"),
    ({"AccountSid": "AC" + "f" * 32}, "RecordingUrl must name the account AccountSid names"),
    ({"Digits": "#RecordingDuration12"}, "Digits must be only the keys"),
])
def test_a_recording_in_malformed_fields_is_refused(
    gateway: GatewayHarness, fields: dict[str, str], message: str
) -> None:
    call = Call(gateway.client)
    call.start()
    for key in ("1", "1", "1", "3"):
        call.press(key)
    assert call.last is not None and call.last.record is not None
    action = call.last.record.get("action", "")
    before = [count(gateway, table) for table in (schema.inbound, schema.events)]
    form = call.params(RecordingUrl=RECORDING, RecordingSid=RECORDING[-34:],
                       RecordingDuration="12", Digits="#")
    response = gateway.client.post(action.removeprefix("http://localhost"), {**form, **fields})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert [count(gateway, table) for table in (schema.inbound, schema.events)] == before
    call.record(RECORDING, 12)  # the genuine action still counts
    assert answers(gateway)["comment"] == ("answered", RECORDING)


@pytest.mark.parametrize("finish", ["#", "hangup", ""])
def test_a_recording_finished_any_documented_way_is_kept(gateway: GatewayHarness,
                                                         finish: str) -> None:
    call = Call(gateway.client)
    call.start()
    for key in ("1", "1", "1", "3"):
        call.press(key)
    call.record(RECORDING, 12, finish=finish)
    assert answers(gateway)["comment"] == ("answered", RECORDING)


@pytest.mark.parametrize("caller", ["anonymous", "+266696687", ""])
def test_hidden_numbers_are_asked_to_call_again(gateway: GatewayHarness, caller: str) -> None:
    call = Call(gateway.client, caller=caller or "x")
    twiml = call.start()
    assert twiml.said == ["Please call again without hiding your number. Goodbye."]
    assert twiml.hangs_up
    assert count(gateway, schema.participants) == 0


def test_unknown_called_number_uses_the_open_consultation(gateway: GatewayHarness) -> None:
    menu = Call(gateway.client, called="+254799999999").start()
    assert menu.prompt == ["For English, press 1.", "Kwa Kiswahili, bonyeza 2."]


# --- the prompts' audio -------------------------------------------------------------------


def test_audio_route_serves_only_prompt_recordings(settings: Settings,
                                                   flows_with_audio: Path) -> None:
    gateway = make_harness(settings.with_overrides(flows_dir=flows_with_audio))
    web = gateway.client.client
    with web.get("/audio/water-test/en/priority.mp3") as mp3:  # unsigned, as Twilio fetches
        assert mp3.status_code == 200
        assert mp3.mimetype == "audio/mpeg"
        assert mp3.data == b"ID3\x03\x00fake mp3 bytes"
    with web.get("/audio/water-test/sw/priority.options.wav") as wav:
        assert wav.status_code == 200 and wav.mimetype == "audio/wav"
    for path in (
        "/audio/water-test/en/missing.mp3",
        "/audio/water-test/en/..%2F..%2Fwater.yaml",
        "/audio/water-test/en/../../secret.txt",
        "/audio/..%2F..%2Fflows/en/secret.txt",
        "/audio/water-test/en/priority.txt",
        "/audio/Water-Test/en/priority.mp3",
        "/audio/water-test/EN/priority.mp3",
    ):
        assert web.get(path).status_code == 404, path
    assert web.post("/audio/water-test/en/priority.mp3").status_code == 405
