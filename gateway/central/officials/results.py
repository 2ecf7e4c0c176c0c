"""Tallies and breakdowns as officials read them, built from the counts SQL returns.

Pure Python over a few hundred aggregate rows at most: every count is made in SQL
(gateway/central/store/tallies.py); this module names, orders, totals and suppresses them.

The rules (also in README.md, "Officials' results"):

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
- Breakdowns group each final state by the participant's final answer to a question
  (profile question usually; "Not stated" when there is none, or it was skipped,
  unparsed or not answered), by the region of the counted event, or by its channel.
- Small cells: in breakdowns (never in overall tallies), every count below k, zero
  included, is shown as "<k" and its percentage hidden; then, so that no such cell can
  be recovered by subtraction from the published totals, another cell is suppressed in
  any row or column that would otherwise hold exactly one suppressed cell.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from gateway.consultation.model import Consultation, Question, QuestionType

NOT_STATED_LABEL = "Not stated"
REGION = "region"
CHANNEL = "channel"
CHANNELS = ("sms", "voice")
TEXT_ANSWERED = "answered"  # the single answer row of a text question
TOTAL_ROW = -1  # row index of the groups' totals (`reached`) in suppression


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
class BreakdownCount:
    question_id: str
    group: str | None  # None: not stated
    status: str
    value: str | None
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


@dataclass(frozen=True)
class Cell:
    count: int
    suppressed: bool = False
    percent: float | None = None  # of the group's `reached`; None when hidden

    def shown(self, k: int) -> str:
        return f"<{k}" if self.suppressed else str(self.count)


@dataclass(frozen=True)
class Group:
    id: str | None  # None: not stated
    label: str
    reached: Cell
    cells: tuple[Cell, ...]  # aligned with the question's rows


@dataclass(frozen=True)
class QuestionBreakdown:
    question_id: str
    rows: tuple[RowSpec, ...]
    groups: tuple[Group, ...]


@dataclass(frozen=True)
class Breakdown:
    by: str  # question id, "region" or "channel"
    label: str
    k: int
    questions: tuple[QuestionBreakdown, ...]

    def question(self, question_id: str) -> QuestionBreakdown:
        return next(q for q in self.questions if q.question_id == question_id)


@dataclass(frozen=True)
class BreakdownChoice:
    key: str
    label: str
    profile: bool = False  # a profile question (the usual breakdowns)


def percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def option_label(consultation: Consultation, question: Question, value: str) -> str:
    """The answer's text in the consultation's default language (the value if unknown)."""
    language = consultation.default_language
    if question.type is QuestionType.CHOICE:
        option = question.option(value)
        return option.label[language] if option is not None else value
    if question.type is QuestionType.YES_NO and value in ("yes", "no"):
        return consultation.message(value, language)
    return value


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


def _row_key(question: Question, status: str, value: str | None) -> tuple[RowKind, str]:
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
            if (key := _row_key(question, status, value))[0] is RowKind.OPTION
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
            channels = per_row.setdefault(_row_key(question, c.status, c.value), {})
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


def breakdown_choices(consultation: Consultation) -> tuple[BreakdownChoice, ...]:
    """What tallies can be broken down by: profile questions first, then region, channel,
    then the consultation's own questions (a cross-tabulation). Text questions cannot."""
    language = consultation.default_language
    profile = [
        BreakdownChoice(q.id, q.prompt[language], profile=True)
        for q in consultation.profile
        if q.type is not QuestionType.TEXT
    ]
    # A question named "region" or "channel" is what the consultation means by it.
    fixed = [
        choice
        for choice in (BreakdownChoice(REGION, "Region"), BreakdownChoice(CHANNEL, "Channel"))
        if consultation.question(choice.key) is None
    ]
    others = [
        BreakdownChoice(q.id, q.prompt[language])
        for q in consultation.questions
        if q.type is not QuestionType.TEXT
    ]
    return tuple(profile + fixed + others)


def breakdown_choice(consultation: Consultation, key: str) -> BreakdownChoice | None:
    return next((c for c in breakdown_choices(consultation) if c.key == key), None)


def _groups(
    consultation: Consultation, by: str, seen: Iterable[str | None]
) -> list[tuple[str | None, str]]:
    """The groups a breakdown shows, in order; the "Not stated" group last."""
    seen = set(seen)
    question = consultation.question(by)
    if question is None and by == CHANNEL:
        groups: list[tuple[str | None, str]] = [("sms", "SMS"), ("voice", "Voice")]
        groups += [(g, g) for g in sorted(g for g in seen if g is not None and g not in CHANNELS)]
        return groups
    if question is None:  # REGION
        named = sorted(g for g in seen if g)  # an empty region is not a region
        return [(g, g) for g in named] + [(None, NOT_STATED_LABEL)]
    specs = list(row_specs(consultation, question))
    known = {s.id for s in specs}
    extra = sorted(g for g in seen if g is not None and g not in known)
    groups = [(s.id, s.label) for s in specs]
    groups += [(g, option_label(consultation, question, g)) for g in extra]
    return groups + [(None, NOT_STATED_LABEL)]


def build_breakdown(
    tally: ConsultationTally, by: str, counts: Iterable[BreakdownCount], k: int
) -> Breakdown:
    """Group counts per question, then suppress small cells (see `suppress`)."""
    consultation = tally.consultation
    choice = breakdown_choice(consultation, by)
    if choice is None:
        raise ValueError(f"cannot break {consultation.id} down by {by!r}")
    counts = list(counts)
    if by == REGION and consultation.question(by) is None:
        counts = [
            BreakdownCount(c.question_id, c.group or None, c.status, c.value, c.count)
            for c in counts
        ]
    groups = _groups(consultation, by, (c.group for c in counts))
    group_index = {g: i for i, (g, _label) in enumerate(groups)}
    by_question: dict[str, list[BreakdownCount]] = {}
    for c in counts:
        by_question.setdefault(c.question_id, []).append(c)

    questions = []
    for question_tally in tally.questions:
        question = question_tally.question
        specs = tuple(r.spec for r in question_tally.rows)
        row_index = {(s.kind, s.id): i for i, s in enumerate(specs)}
        matrix: dict[tuple[int, int], int] = {}
        for c in by_question.get(question.id, []):
            key = (row_index[_row_key(question, c.status, c.value)], group_index[c.group])
            matrix[key] = matrix.get(key, 0) + c.count
        values = [[matrix.get((r, g), 0) for g in range(len(groups))] for r in range(len(specs))]
        totals = [sum(values[r][g] for r in range(len(specs))) for g in range(len(groups))]
        hidden = suppress(values, totals, k)
        built = []
        for g, (group_id, label) in enumerate(groups):
            total_hidden = (TOTAL_ROW, g) in hidden
            cells = tuple(
                Cell(
                    values[r][g],
                    (r, g) in hidden,
                    None if (r, g) in hidden or total_hidden else percent(values[r][g], totals[g]),
                )
                for r in range(len(specs))
            )
            built.append(Group(group_id, label, Cell(totals[g], total_hidden), cells))
        questions.append(QuestionBreakdown(question.id, specs, tuple(built)))
    return Breakdown(by, choice.label, k, tuple(questions))


def suppress(
    values: Sequence[Sequence[int]], totals: Sequence[int], k: int
) -> set[tuple[int, int]]:
    """Cells (row, group) to hide; row TOTAL_ROW holds the group totals.

    Primary: every count below k. Complementary: the overall tally publishes each row's
    sum across groups, and a group's rows add up to its total, so a row or a column with
    exactly one hidden cell gives it away by subtraction; hide its smallest visible cell
    too, until no row or column has exactly one. (A breakdown with a single group cannot
    be protected this way: its cells equal the published overall counts.)
    """
    n_rows = len(values)
    n_groups = len(totals)

    def value(cell: tuple[int, int]) -> int:
        r, g = cell
        return totals[g] if r == TOTAL_ROW else values[r][g]

    every_row = [*range(n_rows), TOTAL_ROW]
    hidden = {(r, g) for r in every_row for g in range(n_groups) if value((r, g)) < k}
    lines = [[(r, g) for g in range(n_groups)] for r in every_row]
    lines += [[(r, g) for r in every_row] for g in range(n_groups)]
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(cell in hidden for cell in line) != 1:
                continue
            visible = [cell for cell in line if cell not in hidden]
            if visible:
                hidden.add(min(visible, key=value))
                changed = True
    return hidden
