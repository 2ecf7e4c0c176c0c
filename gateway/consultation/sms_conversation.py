"""The SMS conversation: advance(state, turn) -> Step. Pure: no I/O, no clock.

The store loads a participant's state, the engine decides the reply and what to
record, and the store writes both in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from gateway.consultation import render
from gateway.consultation.answers import Answer, parse_sms_answer
from gateway.consultation.keywords import Command, Keyword, match_keyword, resolve_language
from gateway.consultation.messages import builtin_message
from gateway.consultation.model import AnswerStatus, Catalog, Consultation, Status


@dataclass(frozen=True)
class SessionState:
    consultation_id: str
    language: str
    position: int = 0  # index into Consultation.steps
    invalid_tries: int = 0
    completed: bool = False


@dataclass(frozen=True)
class ParticipantState:
    opted_out: bool = False
    language: str | None = None
    active_consultation: str | None = None


@dataclass(frozen=True)
class Recorded:
    """One response event to write: an answer, or how a question was left."""

    consultation_id: str
    question_id: str
    status: AnswerStatus
    value: str | None
    raw: str | None
    language: str


@dataclass(frozen=True)
class Step:
    reply: str | None
    participant: ParticipantState
    session: SessionState | None = None  # the session to save, if one changed
    recorded: tuple[Recorded, ...] = ()
    # The confirmation of STOP, START or HELP: sent whatever the reply cap says.
    confirmation: bool = False
    # To record only for a question the participant has no event for yet (the store
    # knows): the question STOP left pending, as `no_answer`.
    unless_answered: tuple[Recorded, ...] = ()


@dataclass(frozen=True)
class Conversation:
    """Everything the engine needs to answer one SMS."""

    catalog: Catalog
    participant: ParticipantState
    sessions: Mapping[str, SessionState]  # this participant's, by consultation id
    now: datetime
    max_invalid_tries: int = 3


def advance(conv: Conversation, text: str) -> Step:
    """Apply one inbound SMS to a participant's state."""
    keyword = match_keyword(text, conv.catalog.keywords)
    participant = conv.participant

    if keyword is not None and keyword.command is Command.OPT_OUT:
        opted = replace(participant, opted_out=True)
        return Step(_system(conv, "opted_out"), opted, confirmation=True,
                    unless_answered=_left_pending(conv, text))
    if participant.opted_out:
        if keyword is not None and keyword.command is Command.OPT_IN:
            opted_in = replace(conv, participant=replace(participant, opted_out=False))
            return replace(_resume(opted_in), confirmation=True)
        return Step(None, participant)  # an opted-out number gets nothing back
    if keyword is not None and keyword.only_when_opted_out:
        keyword = None  # "YES" from a participant in good standing is an answer

    if keyword is None or _answers_current_question(conv, keyword, text):
        return _answer(conv, text)
    if keyword.command is Command.JOIN:
        return _join(conv, keyword.argument)
    if keyword.command is Command.OPT_IN:
        return replace(_resume(conv), confirmation=True)
    if keyword.command is Command.HELP:
        return replace(_help(conv), confirmation=True)
    if keyword.command is Command.LANG:
        return _set_language(conv, keyword)
    return _skip(conv, text)


# --- keywords -------------------------------------------------------------------------


def _join(conv: Conversation, word: str) -> Step:
    consultation = conv.catalog.by_keyword(word) if word else None
    if consultation is None:
        return Step(_no_consultation(conv), conv.participant)
    chosen = conv.participant.language
    if chosen not in consultation.languages:
        chosen = consultation.keyword_languages.get(word.upper())
    language = consultation.language_or_default(chosen)
    status = consultation.status(conv.now)
    if status is Status.UPCOMING:
        opens = consultation.opens.date().isoformat()
        return Step(consultation.message("upcoming", language, opens=opens), conv.participant)
    if status is Status.CLOSED:
        return Step(consultation.message("closed", language), conv.participant)

    participant = replace(conv.participant, active_consultation=consultation.id)
    session = conv.sessions.get(consultation.id)
    if session is not None and not session.completed:
        session = replace(session, invalid_tries=0)
        reply = render.resume(consultation, session.position, session.language)
        return Step(reply, participant, session)
    # New, or finished before: start again; the latest answer to a question counts.
    session = SessionState(consultation.id, language)
    return Step(render.welcome(consultation, language), participant, session)


def _help(conv: Conversation) -> Step:
    active = _active(conv)
    if active is None:
        return Step(_no_consultation(conv), conv.participant)
    consultation, session = active
    keyword = render.keyword(consultation, session.language)
    return Step(consultation.message("help", session.language, keyword=keyword), conv.participant)


def _set_language(conv: Conversation, keyword: Keyword) -> Step:
    active = _active(conv)
    languages = (
        active[0].languages
        if active
        else tuple(dict.fromkeys(lang for c in conv.catalog.consultations for lang in c.languages))
    )
    code = resolve_language(keyword.argument, languages) if keyword.argument else None
    if code is None:
        template = builtin_message("unknown_language", _language(conv))
        return Step(template.format(choices=", ".join(languages)), conv.participant)
    participant = replace(conv.participant, language=code)
    confirmation = builtin_message("language_set", code)
    if active is None:
        return Step(confirmation, participant)
    consultation, session = active
    session = replace(session, language=code)
    question = consultation.steps[session.position]
    reply = f"{confirmation} {render.sms_question(consultation, question, code)}"
    return Step(reply, participant, session)


def _skip(conv: Conversation, raw: str) -> Step:
    active = _active(conv)
    if active is None:
        return Step(_no_consultation(conv), conv.participant)
    consultation, session = active
    question = consultation.steps[session.position]
    if not question.skippable:
        hint = render.answer_hint(consultation, question, session.language)
        return Step(consultation.message("invalid", session.language, hint=hint), conv.participant)
    skipped = Recorded(
        consultation.id, question.id, AnswerStatus.SKIPPED, None, raw, session.language
    )
    return _next_question(conv, consultation, session, skipped)


def _resume(conv: Conversation) -> Step:
    """START: where the participant was and the pending question, asked afresh."""
    active = _active(conv)
    if active is None:
        return Step(_system(conv, "opted_in"), conv.participant)
    consultation, session = active
    session = replace(session, invalid_tries=0)
    reply = render.resume(consultation, session.position, session.language)
    return Step(reply, conv.participant, session)


# --- answers --------------------------------------------------------------------------


def _answers_current_question(conv: Conversation, keyword: Keyword, text: str) -> bool:
    """"water" is both WATER's keyword and an answer alias: mid-consultation, it answers."""
    active = _active(conv)
    if keyword.command is not Command.JOIN or active is None:
        return False
    consultation, session = active
    if keyword.argument not in consultation.keywords:
        return False
    question = consultation.steps[session.position]
    return isinstance(parse_sms_answer(consultation, question, text, session.language), Answer)


def _answer(conv: Conversation, text: str) -> Step:
    active = _active(conv)
    if active is None:
        return _continue_elsewhere(conv)
    consultation, session = active
    language = session.language
    if consultation.status(conv.now) is Status.CLOSED:
        participant = replace(conv.participant, active_consultation=None)
        return Step(consultation.message("closed", language), participant)

    question = consultation.steps[session.position]
    parsed = parse_sms_answer(consultation, question, text, language)
    if isinstance(parsed, Answer):
        recorded = Recorded(
            consultation.id, question.id, AnswerStatus.ANSWERED, parsed.value, text, language
        )
        return _next_question(conv, consultation, session, recorded)

    tries = session.invalid_tries + 1
    if tries < conv.max_invalid_tries:
        reply = consultation.message("invalid", language, hint=parsed.hint)
        return Step(reply, conv.participant, replace(session, invalid_tries=tries))
    unparsed = Recorded(consultation.id, question.id, AnswerStatus.UNPARSED, None, text, language)
    step = _next_question(conv, consultation, session, unparsed)
    notice = consultation.message("unparsed_next", language)
    if step.session is not None and step.session.completed:
        return step
    return replace(step, reply=f"{notice} {step.reply}")


def _next_question(
    conv: Conversation, consultation: Consultation, session: SessionState, recorded: Recorded
) -> Step:
    position = session.position + 1
    if position >= len(consultation.steps):
        done = replace(session, position=position, invalid_tries=0, completed=True)
        participant = replace(conv.participant, active_consultation=None)
        return Step(consultation.message("thanks", session.language), participant, done,
                    (recorded,))
    moved = replace(session, position=position, invalid_tries=0)
    question = consultation.steps[position]
    reply = render.sms_question(consultation, question, session.language)
    return Step(reply, conv.participant, moved, (recorded,))


# --- helpers --------------------------------------------------------------------------


def _continue_elsewhere(conv: Conversation) -> Step:
    """A text from someone whose session a call moved on (so no consultation is active by
    SMS): where they are now and that question, not the text read as its answer."""
    pending = [
        (consultation, session)
        for consultation in conv.catalog.with_status(Status.OPEN, conv.now)
        if (session := conv.sessions.get(consultation.id)) is not None
        and not session.completed
        and session.position < len(consultation.steps)
    ]
    if len(pending) != 1:
        return Step(_no_consultation(conv), conv.participant)
    consultation, session = pending[0]
    participant = replace(conv.participant, active_consultation=consultation.id)
    session = replace(session, invalid_tries=0)
    return Step(render.resume(consultation, session.position, session.language), participant,
                session)


def _left_pending(conv: Conversation, raw: str) -> tuple[Recorded, ...]:
    """The question a participant stops on: reached, nothing given (as a caller's silence)."""
    active = _active(conv)
    if active is None or active[0].status(conv.now) is not Status.OPEN:
        return ()
    consultation, session = active
    question = consultation.steps[session.position]
    return (Recorded(consultation.id, question.id, AnswerStatus.NO_ANSWER, None, raw,
                     session.language),)


def _active(conv: Conversation) -> tuple[Consultation, SessionState] | None:
    """The consultation this participant is answering, if any (and still defined)."""
    consultation_id = conv.participant.active_consultation
    if consultation_id is None:
        return None
    consultation = conv.catalog.get(consultation_id)
    session = conv.sessions.get(consultation_id)
    if consultation is None or session is None or session.completed:
        return None
    if session.position >= len(consultation.steps):
        return None
    return consultation, session


def _language(conv: Conversation) -> str:
    active = _active(conv)
    if active is not None:
        return active[1].language
    return conv.participant.language or _fallback_language(conv.catalog)


def _fallback_language(catalog: Catalog) -> str:
    return catalog.consultations[0].default_language if catalog.consultations else "en"


def _system(conv: Conversation, name: str) -> str:
    """A built-in message that belongs to no consultation, in the participant's language."""
    return builtin_message(name, _language(conv))


def _no_consultation(conv: Conversation) -> str:
    open_ones = conv.catalog.with_status(Status.OPEN, conv.now)
    language = _language(conv)
    keywords = ", ".join(render.keyword(c, language) for c in open_ones) or "-"
    return builtin_message("no_consultation", language).format(keywords=keywords)
