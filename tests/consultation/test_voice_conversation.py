"""The voice flow as a pure function: call state and a key in, a VoiceStep out."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from gateway.consultation.model import AnswerStatus, Catalog
from gateway.consultation.voice_call import (
    CONSULTATION_MENU,
    LANGUAGE_MENU,
    CallState,
    Collect,
    Keys,
    RecordingResult,
)
from gateway.consultation.voice_conversation import (
    MAX_SILENT_REPEATS,
    advance_call,
    hidden_number,
    repeat_current,
    start_call,
)
from gateway.consultation.voice_prompts import Pause, Speech
from tests.consultation.voice_calls import at_question, ctx, press, said, texts

# --- start ----------------------------------------------------------------------------------


def test_called_number_leads_to_the_language_menu(catalog: Catalog) -> None:
    step = start_call(ctx(catalog), "water-test", inbound=True)
    assert step.collect is Collect.KEY
    assert step.target == LANGUAGE_MENU
    assert step.state == CallState(consultation_id="water-test", step=1)
    # each line in its own language, so each is read by that language's voice
    assert step.prompt == (
        Speech("For English, press 1.", "en"),
        Speech("Kwa Kiswahili, bonyeza 2.", "sw"),
    )
    assert step.recorded == ()


def test_language_choice_is_remembered_and_the_welcome_leads_to_question_one(
    catalog: Catalog,
) -> None:
    state = start_call(ctx(catalog), "water-test", inbound=True).state
    step = press(catalog, state, "2")
    assert step.language_chosen == "sw"
    assert step.state == CallState("water-test", "sw", 0, step=2)
    assert texts(step.before) == [
        "Karibu kwenye Huduma za maji. Kuna maswali 5 mafupi. Jibu kwa kubonyeza vitufe vya "
        "simu yako."
    ]
    assert step.target == "priority"
    assert step.prompt[0] == Speech("Kaunti irekebishe nini kwanza?", "sw", audio="priority")
    assert step.prompt[1] == Pause(1)
    assert step.prompt[2].text.startswith("Kwa Vituo vya maji, bonyeza 1. Kwa Barabara, bonyeza 2.")
    assert step.prompt[2].audio == "priority.options"
    assert step.prompt[3] == Speech("Bonyeza nyota kusikiliza tena.", "sw")


def test_single_language_consultation_skips_the_menu(catalog: Catalog) -> None:
    water = catalog.get("water-test")
    assert water is not None
    english_only = replace(water, languages=("en",))
    step = start_call(ctx(Catalog((english_only,))), "water-test", inbound=True)
    assert step.target == "priority"
    assert step.state.language == "en"
    assert texts(step.before)[0].startswith("Welcome to Water services. There are 5 short")


def test_unknown_number_with_one_open_consultation_goes_straight_to_it(catalog: Catalog) -> None:
    step = start_call(ctx(catalog), None, inbound=True)  # roads-2025 is closed
    assert step.target == LANGUAGE_MENU
    assert step.state.consultation_id == "water-test"


def test_several_open_consultations_give_a_menu(catalog: Catalog) -> None:
    water = catalog.get("water-test")
    assert water is not None
    parks = replace(water, id="parks", title={"en": "Parks", "sw": "Bustani"}, keywords=("PARK",),
                    languages=("sw", "en"))
    two = Catalog((water, parks))
    step = start_call(ctx(two), None, inbound=True)
    assert step.target == CONSULTATION_MENU
    assert texts(step.prompt) == [
        "For Water services, press 1.", "Kwa Bustani, bonyeza 2.", "Press star to repeat."
    ]
    chosen = advance_call(ctx(two), step.state, Keys("2"))
    assert chosen.state.consultation_id == "parks"
    assert chosen.target == LANGUAGE_MENU
    assert texts(chosen.prompt) == ["Kwa Kiswahili, bonyeza 1.", "For English, press 2."]
    # invalid, silence and star at the consultation menu
    wrong = advance_call(ctx(two), step.state, Keys("7"))
    assert texts(wrong.before) == ["That key is not valid. Press a key from 1 to 2."]
    assert wrong.target == CONSULTATION_MENU
    quiet = advance_call(ctx(two), step.state, Keys(""))
    assert texts(quiet.before) == ["We did not hear a key."]
    assert quiet.state.silences == 1
    gone = advance_call(ctx(two), replace(step.state, silences=MAX_SILENT_REPEATS), Keys(""))
    assert gone.collect is Collect.HANGUP and gone.state.finished


def test_no_open_consultation(catalog: Catalog) -> None:
    later = datetime(2031, 1, 1, tzinfo=UTC)
    step = start_call(ctx(catalog, now=later), None, inbound=True)
    assert step.collect is Collect.HANGUP
    assert said(step) == "There is no consultation open now. Goodbye."


def test_closed_and_upcoming_consultations_say_so(catalog: Catalog) -> None:
    closed = start_call(ctx(catalog), "roads-2025", inbound=True)
    assert closed.collect is Collect.HANGUP
    assert said(closed) == "Roads survey is closed. Thank you for your interest."
    early = datetime(2025, 6, 1, tzinfo=UTC)
    upcoming = start_call(ctx(catalog, now=early, participant_language="sw"), "water-test",
                          inbound=True)
    assert said(upcoming) == (
        "Huduma za maji itafunguliwa 2026-01-01. Tafadhali piga tena wakati huo. Kwaheri."
    )


def test_missed_call_consultation_rejects_for_a_call_back(catalog: Catalog) -> None:
    water = catalog.get("water-test")
    assert water is not None
    callback = replace(water, voice=replace(water.voice, callback=True))
    step = start_call(ctx(Catalog((callback,))), "water-test", inbound=True)
    assert step.collect is Collect.REJECT and step.callback
    assert step.prompt == () and step.before == ()
    # our own call-back is answered, not rejected
    back = start_call(ctx(Catalog((callback,))), "water-test", inbound=False)
    assert back.collect is Collect.KEY and not back.callback


def test_hidden_number() -> None:
    step = hidden_number("sw")
    assert step.collect is Collect.HANGUP
    assert said(step) == "Tafadhali piga tena bila kuficha namba yako. Kwaheri."


# --- the language menu ----------------------------------------------------------------------


def test_language_menu_silence_repeats_then_uses_the_remembered_language(
    catalog: Catalog,
) -> None:
    state = CallState("water-test", None, step=1)
    first = press(catalog, state, "", participant_language="sw")
    assert first.target == LANGUAGE_MENU
    assert texts(first.before) == ["Hatukusikia kitufe chochote."]
    second = press(catalog, first.state, "", participant_language="sw")
    assert second.target == LANGUAGE_MENU and second.state.silences == 2
    third = press(catalog, second.state, "", participant_language="sw")
    assert third.target == "priority"
    assert third.state.language == "sw"
    assert third.language_chosen is None  # not chosen: nothing new to remember


def test_language_menu_invalid_key_names_the_valid_keys(catalog: Catalog) -> None:
    state = CallState("water-test", None, step=1)
    step = press(catalog, state, "5")
    assert texts(step.before) == ["That key is not valid. Press a key from 1 to 2."]
    assert step.target == LANGUAGE_MENU
    assert press(catalog, state, "*").target == LANGUAGE_MENU


@pytest.mark.parametrize("key", ["²", "١", "0", "12"])
def test_menus_take_only_one_keypad_digit(catalog: Catalog, key: str) -> None:
    """"²" and "١" are digits to Python, not keys; a forged Digits field is refused
    as an invalid key, not an error."""
    step = press(catalog, CallState("water-test", None, step=1), key)
    assert texts(step.before) == ["That key is not valid. Press a key from 1 to 2."]
    water = catalog.get("water-test")
    assert water is not None
    two = Catalog((water, replace(water, id="parks", keywords=("PARK",))))
    menu = start_call(ctx(two), None, inbound=True).state
    assert advance_call(ctx(two), menu, Keys(key)).target == CONSULTATION_MENU


# --- questions ------------------------------------------------------------------------------


def test_choice_answer_is_read_back_and_recorded(catalog: Catalog) -> None:
    step = press(catalog, at_question(0), "1")
    [recorded] = step.recorded
    assert (recorded.question_id, recorded.status, recorded.value, recorded.raw) == (
        "priority", AnswerStatus.ANSWERED, "water", "1")
    assert recorded.language == "en"
    assert texts(step.before) == ["You chose Water points."]
    assert step.target == "enough"
    assert step.state.position == 1 and step.state.step == 6


def test_yes_no_keys(catalog: Catalog) -> None:
    step = press(catalog, at_question(1), "2")
    assert step.recorded[0].value == "no"
    assert texts(step.before) == ["You chose No."]
    assert texts(press(catalog, at_question(1, "sw"), "1").before) == ["Umechagua Ndiyo."]
    prompt = texts(press(catalog, at_question(0), "1").prompt)
    assert prompt == ["Do you have enough water at home?", "Press 1 for Yes or 2 for No.",
                      "Press star to repeat."]


def test_scale_is_one_key(catalog: Catalog) -> None:
    prompt = press(catalog, at_question(1), "1").prompt
    assert texts(prompt)[1] == "Press a key from 1 to 5."
    step = press(catalog, at_question(2), "4")
    assert step.recorded[0].value == "4"
    assert texts(step.before) == ["You chose 4."]
    wrong = press(catalog, at_question(2), "0")
    assert wrong.recorded == ()
    assert texts(wrong.before) == ["That key is not valid. Press a key from 1 to 5."]


def test_star_repeats_the_question_and_records_nothing(catalog: Catalog) -> None:
    state = at_question(0, silences=1, invalid_tries=1)
    step = press(catalog, state, "*")
    assert step.recorded == ()
    assert step.before == ()
    assert step.target == "priority"
    assert step.state == replace(state, step=6, silences=0, invalid_tries=0)
    assert texts(step.prompt)[0] == "What should the county fix first?"


def test_silence_repeats_twice_then_no_answer(catalog: Catalog) -> None:
    state = at_question(0)
    for repeat in range(1, MAX_SILENT_REPEATS + 1):
        step = press(catalog, state, "")
        assert step.recorded == ()
        assert step.target == "priority"
        assert texts(step.before) == ["We did not hear a key."]
        assert step.state.silences == repeat
        state = step.state
    step = press(catalog, state, "")
    [recorded] = step.recorded
    assert (recorded.question_id, recorded.status, recorded.value) == (
        "priority", AnswerStatus.NO_ANSWER, None)
    assert texts(step.before) == ["We did not hear a key.", "Let us go to the next question."]
    assert step.target == "enough"
    assert step.state.silences == 0


def test_invalid_keys_give_the_hint_then_unparsed(catalog: Catalog) -> None:
    state = at_question(0)
    for key in ("7", "#"):
        step = press(catalog, state, key)
        assert texts(step.before) == ["That key is not valid. Press a key from 1 to 4."]
        assert step.recorded == ()
        state = step.state
    step = press(catalog, state, "9")
    assert step.recorded[0].status is AnswerStatus.UNPARSED
    assert step.recorded[0].raw == "9"
    assert step.target == "enough"


def test_required_question_refuses_zero_profile_question_skips(catalog: Catalog) -> None:
    refused = press(catalog, at_question(0), "0")
    assert refused.recorded == ()
    assert texts(refused.before) == ["That key is not valid. Press a key from 1 to 4."]
    age = press(catalog, at_question(4), "0")
    assert age.recorded[0].status is AnswerStatus.SKIPPED
    assert age.recorded[0].raw == "0"
    assert texts(age.before) == ["You skipped this question."]
    assert "Press 0 to skip." in texts(press(catalog, at_question(3), "0").prompt)[1]


def test_text_question_is_a_recording(catalog: Catalog) -> None:
    step = press(catalog, at_question(2), "3")
    assert step.collect is Collect.RECORD and step.interruptible
    assert step.target == "comment"
    assert texts(step.prompt) == [
        "Any other comment?",
        "Press 0 to skip.",
        "Press star to repeat.",
        "After the beep, say your comment, then press hash.",
    ]
    url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"
    done = press(catalog, at_question(3), RecordingResult(url, 12))
    [recorded] = done.recorded
    assert (recorded.status, recorded.value, recorded.raw) == (
        AnswerStatus.ANSWERED, url, "duration=12s")
    assert texts(done.before) == ["Thank you. Your comment was recorded."]
    assert done.target == "age_band"


@pytest.mark.parametrize("result", [RecordingResult(None, 0),
                                    RecordingResult("https://api.twilio.com/x/RE2", 0)])
def test_empty_recording_is_no_answer(catalog: Catalog, result: RecordingResult) -> None:
    step = press(catalog, at_question(3), result)
    assert step.recorded[0].status is AnswerStatus.NO_ANSWER
    assert step.recorded[0].value is None
    assert texts(step.before) == ["We did not hear a comment."]
    assert step.target == "age_band"


def test_keys_during_the_comment_prompt(catalog: Catalog) -> None:
    assert press(catalog, at_question(3), "0").recorded[0].status is AnswerStatus.SKIPPED
    again = press(catalog, at_question(3), "*")
    assert again.collect is Collect.RECORD and again.interruptible and again.recorded == ()
    ready = press(catalog, at_question(3), "5")  # any other key: straight to the beep
    assert ready.collect is Collect.RECORD and not ready.interruptible
    assert texts(ready.prompt) == ["After the beep, say your comment, then press hash."]
    assert ready.recorded == ()


def test_last_answer_thanks_and_hangs_up(catalog: Catalog) -> None:
    step = press(catalog, at_question(4), "2")
    assert step.collect is Collect.HANGUP
    assert step.state.finished
    assert step.recorded[0].value == "18_34"
    assert texts(step.prompt) == ["Thank you for your voice.", "Goodbye."]
    after = press(catalog, step.state, "1")
    assert after.collect is Collect.HANGUP and after.recorded == ()


def test_resume_where_an_earlier_call_stopped(catalog: Catalog) -> None:
    state = CallState("water-test", None, step=1)
    step = press(catalog, state, "1", resume={"water-test": 2})
    assert step.target == "satisfaction"
    assert texts(step.before) == [
        "Welcome back to Water services: we continue where you stopped, at question 3 of 5."
    ]


def test_closing_during_a_call_ends_it(catalog: Catalog) -> None:
    late = datetime(2031, 1, 1, tzinfo=UTC)
    step = press(catalog, at_question(1), "1", now=late)
    assert step.collect is Collect.HANGUP
    assert step.recorded == ()
    assert said(step) == "Water services is closed. Thank you for your interest."


def test_repeat_current(catalog: Catalog) -> None:
    again = repeat_current(ctx(catalog), at_question(1))
    assert again.state == at_question(1)  # no change, not even the step
    assert again.target == "enough"


def test_press_star_to_repeat_is_said_once_per_question(catalog: Catalog) -> None:
    """Said when a question is first read; not again at `*`, after silence or a wrong key."""
    hint = "Press star to repeat."
    first = press(catalog, at_question(0), "1")  # answers "priority": "enough" is read
    assert first.target == "enough"
    assert texts(first.prompt).count(hint) == 1
    state = first.state
    for key in ("*", "", "7"):
        again = press(catalog, state, key)
        assert again.target == "enough"
        assert hint not in said(again), key
        state = again.state
    assert hint not in said(repeat_current(ctx(catalog), state))
    moved = press(catalog, state, "1")
    assert moved.target == "satisfaction"
    assert texts(moved.prompt).count(hint) == 1


def test_the_consultation_menu_speaks_a_language_a_consultation_brings() -> None:
    """A caller who chose Arabic before hears the menu's own words in Arabic."""
    from gateway.consultation.catalogue import load_catalog
    from tests.conftest import UNSEEN_LANGUAGE_FLOWS

    arabic = load_catalog([UNSEEN_LANGUAGE_FLOWS]).consultations[0]
    english = replace(arabic, id="parks", title={"ar": "الحدائق", "en": "Parks"},
                      keywords=("PARK",), languages=("en",))
    two = Catalog((arabic, english))
    step = start_call(ctx(two, participant_language="ar"), None, inbound=True)
    assert texts(step.prompt) == ["لـ خدمات المياه، اضغط 1.", "For Parks, press 2.",
                                  "اضغط النجمة للإعادة."]
    wrong = press(two, step.state, "7", participant_language="ar")
    assert texts(wrong.before) == ["هذا المفتاح غير صحيح. اضغط مفتاحا من 1 إلى 2."]
    quiet = press(two, step.state, "", participant_language="ar")
    assert texts(quiet.before) == ["لم نسمع أي مفتاح."]
