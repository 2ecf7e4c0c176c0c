"""The consultation model: what an official writes in ivr_flows/*.yaml, validated.

Every text is a mapping language code -> text and, once loaded, has every language
the consultation declares.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from enum import StrEnum

from gateway.consultation.messages import builtin_message, builtin_reminder

LocalizedText = Mapping[str, str]

MAX_OPTIONS = 9  # one key per option on a phone keypad (0 is "skip", * is "repeat")


class QuestionType(StrEnum):
    CHOICE = "choice"
    YES_NO = "yes_no"
    SCALE = "scale"
    TEXT = "text"


class Status(StrEnum):
    UPCOMING = "upcoming"
    OPEN = "open"
    CLOSED = "closed"


class AnswerStatus(StrEnum):
    """How a participant left a question; stored with every response event."""

    ANSWERED = "answered"
    UNPARSED = "unparsed"  # gave up after repeated invalid replies
    SKIPPED = "skipped"  # said SKIP (or pressed 0) on an optional/profile question
    NO_ANSWER = "no_answer"  # reached the question, gave nothing (silence, empty recording)


@dataclass(frozen=True)
class Option:
    id: str
    label: LocalizedText
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Question:
    id: str
    type: QuestionType
    prompt: LocalizedText
    options: tuple[Option, ...] = ()
    min: int | None = None  # scale only
    max: int | None = None  # scale only
    optional: bool = False
    max_length: int = 480  # text only: longer SMS answers are cut here
    profile: bool = False  # profile questions are voluntary and break tallies down

    @property
    def skippable(self) -> bool:
        return self.optional or self.profile

    def option(self, option_id: str) -> Option | None:
        return next((o for o in self.options if o.id == option_id), None)


@dataclass(frozen=True)
class VoiceSettings:
    numbers: tuple[str, ...] = ()  # E.164 numbers whose calls go to this consultation
    callback: bool = False  # missed call -> free call-back


@dataclass(frozen=True)
class Consultation:
    id: str
    title: LocalizedText
    keywords: tuple[str, ...]  # upper case
    languages: tuple[str, ...]  # the first is the default
    opens: datetime  # timezone-aware
    closes: datetime  # timezone-aware
    questions: tuple[Question, ...]
    profile: tuple[Question, ...] = ()
    voice: VoiceSettings = field(default_factory=VoiceSettings)
    messages: Mapping[str, LocalizedText] = field(default_factory=dict)  # overrides
    embargo: bool = False  # hide tallies from the dashboard until the consultation closes
    keyword_languages: Mapping[str, str] = field(default_factory=dict)  # MAJI -> sw
    source: str = ""  # file it was loaded from, for error messages
    # Outreach (docs/outreach.md): the zone of sending and calling hours (`timezone:`;
    # default the fixed UTC offset of `opens`), and texts per language (empty: none;
    # the reminder defaults to the built-in one of each language that has one).
    timezone: tzinfo | None = None
    invitation: LocalizedText = field(default_factory=dict)
    reminder: LocalizedText = field(default_factory=dict)
    results: LocalizedText = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.timezone is None:
            offset = self.opens.utcoffset() or timedelta(0)
            object.__setattr__(self, "timezone", timezone(offset))
        if not self.reminder:
            builtin = {
                lang: text
                for lang in self.languages
                if (text := builtin_reminder(lang)) is not None
            }
            object.__setattr__(self, "reminder", builtin)

    @property
    def default_language(self) -> str:
        return self.languages[0]

    @property
    def steps(self) -> tuple[Question, ...]:
        """Questions in the order they are asked: the consultation's, then the profile."""
        return self.questions + self.profile

    def step_index(self, question_id: str) -> int | None:
        return next((i for i, q in enumerate(self.steps) if q.id == question_id), None)

    def question(self, question_id: str) -> Question | None:
        index = self.step_index(question_id)
        return None if index is None else self.steps[index]

    def status(self, now: datetime) -> Status:
        if now < self.opens:
            return Status.UPCOMING
        if now > self.closes:
            return Status.CLOSED
        return Status.OPEN

    def language_or_default(self, language: str | None) -> str:
        return language if language in self.languages else self.default_language

    def message(self, name: str, language: str, **values: object) -> str:
        """A consultation message (override or built-in), formatted with `values`."""
        override = self.messages.get(name, {}).get(language)
        template = override if override is not None else builtin_message(name, language)
        return template.format(title=self.title[language], **values)


@dataclass(frozen=True)
class Catalog:
    """The consultations a gateway serves, indexed the ways participants reach them."""

    consultations: tuple[Consultation, ...] = ()

    def get(self, consultation_id: str) -> Consultation | None:
        return next((c for c in self.consultations if c.id == consultation_id), None)

    def by_keyword(self, keyword: str) -> Consultation | None:
        word = keyword.upper()
        return next((c for c in self.consultations if word in c.keywords), None)

    def by_voice_number(self, number: str) -> Consultation | None:
        return next((c for c in self.consultations if number in c.voice.numbers), None)

    @property
    def keywords(self) -> tuple[str, ...]:
        return tuple(k for c in self.consultations for k in c.keywords)

    def with_status(self, status: Status, now: datetime) -> tuple[Consultation, ...]:
        return tuple(c for c in self.consultations if c.status(now) == status)
