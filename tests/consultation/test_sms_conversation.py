"""The SMS engine as a pure function: state and text in, reply and effects out."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from gateway.consultation.catalogue import parse_consultation
from gateway.consultation.model import AnswerStatus, Catalog
from gateway.consultation.sms_conversation import (
    Conversation,
    ParticipantState,
    SessionState,
    Step,
    advance,
)
from tests.conftest import FIXTURE_FLOWS

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def talk(
    catalog: Catalog,
    text: str,
    participant: ParticipantState | None = None,
    sessions: dict[str, SessionState] | None = None,
    now: datetime = NOW,
) -> Step:
    conversation = Conversation(catalog, participant or ParticipantState(), sessions or {}, now)
    return advance(conversation, text)


def in_progress(position: int, language: str = "en") -> tuple[ParticipantState, dict]:
    session = SessionState("water-test", language, position=position)
    return ParticipantState(active_consultation="water-test"), {"water-test": session}


def test_join_starts_a_session_in_the_default_language(catalog: Catalog) -> None:
    step = talk(catalog, "WATER")
    assert step.session == SessionState("water-test", "en")
    assert step.participant.active_consultation == "water-test"
    assert step.recorded == ()


def test_join_uses_the_participants_language(catalog: Catalog) -> None:
    step = talk(catalog, "WATER", ParticipantState(language="sw"))
    assert step.session is not None and step.session.language == "sw"
    assert step.reply is not None and "Kaunti irekebishe nini kwanza?" in step.reply


def test_finished_participant_starts_again(catalog: Catalog) -> None:
    done = {"water-test": SessionState("water-test", "en", position=5, completed=True)}
    step = talk(catalog, "WATER", ParticipantState(), done)
    assert step.session == SessionState("water-test", "en")


def test_last_answer_completes(catalog: Catalog) -> None:
    participant, sessions = in_progress(4)
    step = talk(catalog, "4", participant, sessions)
    assert step.reply == "Thank you for your voice."
    assert step.session is not None and step.session.completed
    assert step.participant.active_consultation is None
    assert [(r.question_id, r.status, r.value) for r in step.recorded] == [
        ("age_band", AnswerStatus.ANSWERED, "60_plus")
    ]


def test_consultation_closing_mid_session(catalog: Catalog) -> None:
    participant, sessions = in_progress(1)
    later = datetime(2031, 1, 1, tzinfo=UTC)
    step = talk(catalog, "1", participant, sessions, now=later)
    assert step.reply == "Water services is closed. Thank you for your interest."
    assert step.recorded == ()
    assert step.participant.active_consultation is None


def test_opted_out_participant_gets_nothing_and_records_nothing(catalog: Catalog) -> None:
    participant, sessions = in_progress(0)
    step = talk(catalog, "1", ParticipantState(opted_out=True, active_consultation="water-test"),
                sessions)
    assert step.reply is None and step.recorded == () and step.session is None


def test_invalid_tries_count_then_unparsed(catalog: Catalog) -> None:
    participant, sessions = in_progress(0)
    first = talk(catalog, "purple", participant, sessions)
    assert first.session is not None and first.session.invalid_tries == 1
    assert first.recorded == ()
    sessions = {"water-test": SessionState("water-test", "en", position=0, invalid_tries=2)}
    third = talk(catalog, "purple", participant, sessions)
    assert third.session is not None and third.session.position == 1
    assert third.recorded[0].status is AnswerStatus.UNPARSED
    assert third.recorded[0].raw == "purple"


def test_language_switch_without_consultation(catalog: Catalog) -> None:
    step = talk(catalog, "LANG kiswahili")
    assert step.participant.language == "sw"
    assert step.reply == "Lugha imewekwa Kiswahili."


def test_upcoming_consultation(catalog: Catalog) -> None:
    early = datetime(2025, 6, 1, tzinfo=UTC)
    step = talk(catalog, "WATER", now=early)
    assert step.reply == "Water services opens on 2026-01-01. Please text again then."
    assert step.session is None


def test_keyword_listed_under_a_language_starts_in_it(catalog: Catalog) -> None:
    water = replace(catalog.get("water-test"), keyword_languages={"MAJI": "sw"})
    swahili_catalog = Catalog((water,))
    step = talk(swahili_catalog, "maji")
    assert step.session is not None and step.session.language == "sw"
    # A language the participant chose themselves still wins.
    step = talk(swahili_catalog, "MAJI", ParticipantState(language="en"))
    assert step.session is not None and step.session.language == "en"


def test_a_keyword_published_as_an_alias_answers_mid_question() -> None:
    """A consultation published before flows check refused keywords that are answers:
    on the question it answers, the word is the answer; elsewhere, the keyword."""
    text = (FIXTURE_FLOWS / "water.yaml").read_text(encoding="utf-8")
    text = text.replace("aliases: {en: [tap]}", "aliases: {en: [water, tap]}")
    assert "[water, tap]" in text
    catalog = Catalog(consultations=(parse_consultation(text, "published water-test"),))
    participant, sessions = in_progress(0)
    step = talk(catalog, "water", participant, sessions)
    assert [(r.question_id, r.value) for r in step.recorded] == [("priority", "water")]
    participant, sessions = in_progress(1)
    step = talk(catalog, "water", participant, sessions)
    assert step.recorded == ()
    assert step.reply is not None and "continue where you stopped" in step.reply
    assert step.reply.endswith("Do you have enough water at home? Reply 1 for Yes or 2 for No.")


# --- hints in the participant's language --------------------------------------------------


def _swahili_keywords(catalog: Catalog) -> Catalog:
    water = catalog.get("water-test")
    assert water is not None
    return Catalog((replace(water, keyword_languages={"WATER": "en", "MAJI": "sw"}),))


def test_help_and_the_keyword_list_name_the_keyword_of_the_participants_language(
    catalog: Catalog,
) -> None:
    swahili = _swahili_keywords(catalog)
    participant, sessions = in_progress(0, "sw")
    helped = talk(swahili, "HELP", participant, sessions)
    assert helped.reply is not None and "Tuma MAJI kuendelea" in helped.reply
    assert "WATER" not in helped.reply
    nothing = talk(swahili, "habari", ParticipantState(language="sw"))
    assert nothing.reply == "Kushiriki, tuma moja ya: MAJI"
    english = talk(swahili, "hello", ParticipantState(language="en"))
    assert english.reply == "To take part, text one of: WATER"


def test_every_hint_names_the_command_words_of_the_participants_language(
    catalog: Catalog,
) -> None:
    participant, sessions = in_progress(3, "sw")  # "comment" is optional
    asked = talk(catalog, "LUGHA sw", participant, sessions)
    assert asked.reply is not None and "Jibu RUKA kuruka." in asked.reply
    helped = talk(catalog, "MSAADA", participant, sessions)
    assert helped.reply is not None
    for word in ("RUKA", "LUGHA", "SITISHA"):
        assert word in helped.reply
    for english in ("SKIP", "LANG", "STOP", "HELP"):
        assert english not in helped.reply
    welcome = talk(catalog, "MAJI", ParticipantState(language="sw"))
    assert welcome.reply is not None and "SITISHA" in welcome.reply
    assert "STOP" not in welcome.reply and "HELP" not in welcome.reply
    # ... and every one of them works
    skipped = talk(catalog, "RUKA", participant, sessions)
    assert [(r.question_id, r.status) for r in skipped.recorded] == [
        ("comment", AnswerStatus.SKIPPED)
    ]
    stopped = talk(catalog, "SITISHA", participant, sessions)
    assert stopped.participant.opted_out


# --- START after STOP --------------------------------------------------------------------


def test_start_after_stop_says_where_they_were_and_asks_the_pending_question(
    catalog: Catalog,
) -> None:
    sessions = {"water-test": SessionState("water-test", "en", position=1, invalid_tries=2)}
    opted_out = ParticipantState(opted_out=True, active_consultation="water-test")
    step = talk(catalog, "START", opted_out, sessions)
    assert not step.participant.opted_out
    assert step.reply == (
        "Welcome back to Water services: we continue where you stopped, at question 2 of 5. "
        "Do you have enough water at home? Reply 1 for Yes or 2 for No."
    )
    assert step.session == SessionState("water-test", "en", position=1, invalid_tries=0)
    assert step.recorded == ()
    answered = talk(catalog, "yes", step.participant, {"water-test": step.session})
    assert [(r.question_id, r.status, r.value) for r in answered.recorded] == [
        ("enough", AnswerStatus.ANSWERED, "yes")
    ]


def test_start_after_stop_with_nothing_pending_asks_for_a_keyword(catalog: Catalog) -> None:
    step = talk(catalog, "START", ParticipantState(opted_out=True))
    assert step.reply == "Welcome back. Text a keyword to take part."


def test_a_keyword_mid_consultation_says_it_continues(catalog: Catalog) -> None:
    participant, sessions = in_progress(2, "sw")
    step = talk(catalog, "MAJI", participant, sessions)
    assert step.reply is not None
    assert step.reply.startswith(
        "Karibu tena kwenye Huduma za maji: tunaendelea ulipoishia, swali la 3 kati ya 5. "
        "Umeridhika kiasi gani"
    )
