"""Breakdowns: each question's final states grouped by another answer, the region or
the channel, with small cells suppressed.

Pure Python over the aggregate rows SQL returns (gateway/central/store/tallies.py), laid
out against the rows of the overall tally (tallies.py).

The rules (also in README.md, "How responses are counted"):

- Breakdowns group each final state by the participant's final answer to a question
  (profile question usually; "Not stated" when there is none, or it was skipped,
  unparsed or not answered), by the region of the counted event, or by its channel.
- Groups nobody is in (for a question) are left out.
- Small cells: in breakdowns (never in overall tallies), every count below k, zero
  included, is shown as "<k" and its percentage hidden; then, so that no such cell can
  be recovered by subtraction from the published totals, another cell is suppressed in
  any row or column that would otherwise hold exactly one suppressed cell
  (suppression.py). Only where that protects someone: not in the breakdown by channel
  (the overall tally publishes it), nor when a question has one group (it equals the
  overall tally).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gateway.central.officials.suppression import TOTAL_ROW, suppress
from gateway.central.officials.tallies import (
    ConsultationTally,
    RowSpec,
    option_label,
    percent,
    row_key,
    row_specs,
)
from gateway.consultation.model import Consultation, QuestionType

NOT_STATED_LABEL = "Not stated"
REGION = "region"
CHANNEL = "channel"
CHANNELS = ("sms", "voice")


@dataclass(frozen=True)
class BreakdownCount:
    question_id: str
    group: str | None  # None: not stated
    status: str
    value: str | None
    count: int


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

    @property
    def suppressed(self) -> bool:
        """Whether any of its cells is shown as "<k"."""
        return any(c.suppressed for g in self.groups for c in (g.reached, *g.cells))


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


def _question_groups(
    groups: list[tuple[str | None, str]], n_rows: int, matrix: dict[tuple[int, int], int], k: int
) -> tuple[Group, ...]:
    """A question's groups, leaving out those nobody is in, with cells below `k` hidden.

    A single group equals the overall tally, which is shown whole: nothing to hide."""
    present = [
        g for g in range(len(groups)) if any(matrix.get((r, g), 0) for r in range(n_rows))
    ]
    values = [[matrix.get((r, g), 0) for g in present] for r in range(n_rows)]
    totals = [sum(values[r][i] for r in range(n_rows)) for i in range(len(present))]
    hidden = suppress(values, totals, k) if len(present) > 1 else set()
    built = []
    for i, g in enumerate(present):
        group_id, label = groups[g]
        total_hidden = (TOTAL_ROW, i) in hidden
        cells = tuple(
            Cell(
                values[r][i],
                (r, i) in hidden,
                None if (r, i) in hidden or total_hidden else percent(values[r][i], totals[i]),
            )
            for r in range(n_rows)
        )
        built.append(Group(group_id, label, Cell(totals[i], total_hidden), cells))
    return tuple(built)


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

    # The overall tally publishes every row by channel: hiding any of it protects nobody.
    protect = not (by == CHANNEL and consultation.question(by) is None)
    questions = []
    for question_tally in tally.questions:
        question = question_tally.question
        specs = tuple(r.spec for r in question_tally.rows)
        row_index = {(s.kind, s.id): i for i, s in enumerate(specs)}
        matrix: dict[tuple[int, int], int] = {}
        for c in by_question.get(question.id, []):
            key = (row_index[row_key(question, c.status, c.value)], group_index[c.group])
            matrix[key] = matrix.get(key, 0) + c.count
        built = _question_groups(groups, len(specs), matrix, k if protect else 0)
        questions.append(QuestionBreakdown(question.id, specs, built))
    return Breakdown(by, choice.label, k, tuple(questions))

