"""Tallies as officials read them, built from the counts SQL returns.

Pure Python over a few hundred aggregate rows at most: every count is made in SQL
(gateway/central/store/tallies.py); this module names, orders and totals them. Breaking
them down is breakdowns.py's, hiding small cells suppression.py's.

The rules (also in README.md, "How responses are counted"):

- A participant's final state for a question is their latest event for it (latest
  `answered_at`, ties broken by the greater `event_id`), whatever its status: a later
  skip, unparsed reply or silence replaces an earlier answer. Only final states count.
- Each question's rows: one per option (choice; yes/no; every scale value; for a text
  question one row "answered"), then `unparsed`, `skipped`, `no_answer`, kept apart.
  Percentages are of `reached`: the participants with a final state for the question,
  so the rows of a question add up to 100%.
- Channel columns: the channel of the counted (final) event.
- Rates: `participants` are the distinct pseudonyms with any event in the
  consultation; `responded` those who gave at least one answer (an `answered` event,
  even one they changed later) to a consultation question, profile questions aside;
  `completed` those with a final state for the last consultation question (they
  reached it). Both rates are of `participants`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from gateway.consultation.answers import answer_label
from gateway.consultation.model import Consultation, Question, QuestionType

TEXT_ANSWERED = "answered"  # the single answer row of a text question


class RowKind(StrEnum):
    OPTION = "option"
    UNPARSED = "unparsed"
    SKIPPED = "skipped"
    NO_ANSWER = "no_answer"


STATUS_ROWS = (RowKind.UNPARSED, RowKind.SKIPPED, RowKind.NO_ANSWER)
STATUS_LABELS = {
    RowKind.UNPARSED: "Not understood (unparsed)",
    RowKind.SKIPPED: "Skipped",
    RowKind.NO_ANSWER: "No answer",
}


@dataclass(frozen=True)
class TallyCount:
    """One aggregate row from SQL: final states of a question with these values."""

    question_id: str
    status: str
    value: str | None  # the answer for answered choice/yes_no/scale; None otherwise
    channel: str
    count: int


@dataclass(frozen=True)
class Participation:
    participants: int
    participants_sms: int  # took part by SMS (someone who used both is in both)
    participants_voice: int
    responded: int
    completed: int


@dataclass(frozen=True)
class Counts:
    sms: int = 0
    voice: int = 0

    @property
    def total(self) -> int:
        return self.sms + self.voice


@dataclass(frozen=True)
class RowSpec:
    kind: RowKind
    id: str  # option id, scale value, "yes"/"no", "answered"; or the kind for status rows
    label: str


@dataclass(frozen=True)
class Row:
    spec: RowSpec
    counts: Counts
    percent: float | None  # of `reached`; None when nobody reached the question

    @property
    def kind(self) -> RowKind:
        return self.spec.kind

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def label(self) -> str:
        return self.spec.label


@dataclass(frozen=True)
class QuestionTally:
    question: Question
    prompt: str  # in the consultation's default language
    reached: Counts
    rows: tuple[Row, ...]

    @property
    def options(self) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if r.kind is RowKind.OPTION)

    def status_row(self, kind: RowKind) -> Row:
        return next(r for r in self.rows if r.kind is kind)


@dataclass(frozen=True)
class ConsultationTally:
    consultation: Consultation
    questions: tuple[QuestionTally, ...]
    participation: Participation

    @property
    def response_rate(self) -> float | None:
        return percent(self.participation.responded, self.participation.participants)

    @property
    def completion_rate(self) -> float | None:
        return percent(self.participation.completed, self.participation.participants)

    def question(self, question_id: str) -> QuestionTally:
        return next(q for q in self.questions if q.question.id == question_id)


def percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def option_label(consultation: Consultation, question: Question, value: str) -> str:
    """The answer's text in the consultation's default language (the value if unknown)."""
    return answer_label(consultation, question, value, consultation.default_language)


def row_specs(consultation: Consultation, question: Question) -> tuple[RowSpec, ...]:
    """The answer rows a question always shows (zeros included), before status rows."""
    if question.type is QuestionType.CHOICE:
        ids = [o.id for o in question.options]
    elif question.type is QuestionType.YES_NO:
        ids = ["yes", "no"]
    elif question.type is QuestionType.SCALE:
        assert question.min is not None and question.max is not None
        ids = [str(v) for v in range(question.min, question.max + 1)]
    else:
        return (RowSpec(RowKind.OPTION, TEXT_ANSWERED, "Answered (text or recording)"),)
    return tuple(RowSpec(RowKind.OPTION, i, option_label(consultation, question, i)) for i in ids)


def row_key(question: Question, status: str, value: str | None) -> tuple[RowKind, str]:
    """The row (kind, id) a final state with this status and value is counted in."""
    if status == "answered":
        if question.type is QuestionType.TEXT:
            return RowKind.OPTION, TEXT_ANSWERED
        return RowKind.OPTION, value if value is not None else ""
    kind = RowKind(status)
    return kind, kind.value


def _all_rows(
    consultation: Consultation, question: Question, seen: Iterable[tuple[str, str | None]]
) -> list[RowSpec]:
    """Fixed rows, then any answer value not in the definition (kept, never dropped)."""
    specs = list(row_specs(consultation, question))
    known = {s.id for s in specs}
    extra = sorted(
        {
            key[1]
            for status, value in seen
            if (key := row_key(question, status, value))[0] is RowKind.OPTION
            and key[1] not in known
        }
    )
    specs += [RowSpec(RowKind.OPTION, v, option_label(consultation, question, v)) for v in extra]
    specs += [RowSpec(kind, kind.value, STATUS_LABELS[kind]) for kind in STATUS_ROWS]
    return specs


def build_tally(
    consultation: Consultation, counts: Iterable[TallyCount], participation: Participation
) -> ConsultationTally:
    by_question: dict[str, list[TallyCount]] = {}
    for c in counts:
        by_question.setdefault(c.question_id, []).append(c)
    questions = []
    for question in consultation.steps:
        mine = by_question.get(question.id, [])
        specs = _all_rows(consultation, question, ((c.status, c.value) for c in mine))
        per_row: dict[tuple[RowKind, str], dict[str, int]] = {}
        for c in mine:
            channels = per_row.setdefault(row_key(question, c.status, c.value), {})
            channels[c.channel] = channels.get(c.channel, 0) + c.count
        reached = Counts(
            sum(c.count for c in mine if c.channel == "sms"),
            sum(c.count for c in mine if c.channel == "voice"),
        )
        rows = []
        for spec in specs:
            channels = per_row.get((spec.kind, spec.id), {})
            row_counts = Counts(channels.get("sms", 0), channels.get("voice", 0))
            rows.append(Row(spec, row_counts, percent(row_counts.total, reached.total)))
        questions.append(
            QuestionTally(
                question, question.prompt[consultation.default_language], reached, tuple(rows)
            )
        )
    return ConsultationTally(consultation, tuple(questions), participation)

