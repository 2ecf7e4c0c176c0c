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
    assert step.reply is not None and step.reply.startswith("Do you have enough water")
