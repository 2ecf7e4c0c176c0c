"""What every export format shares: the formats and their media types, the columns, the
rows of tallies and breakdowns, and a response's values."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from gateway.central.officials.breakdowns import Breakdown
from gateway.central.officials.reports import Published
from gateway.central.officials.tallies import ConsultationTally, RowKind, option_label
from gateway.central.store.responses import ResponseRow
from gateway.consultation.model import Consultation, QuestionType

FORMATS = ("csv", "xlsx", "json")
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "zip": "application/zip",
}
CHUNK_BYTES = 64 * 1024

TALLY_COLUMNS = (
    "consultation", "question", "question_type", "profile", "row", "option", "label",
    "sms", "voice", "total", "percent",
)  # fmt: skip
BREAKDOWN_COLUMNS = (
    "consultation", "question", "breakdown", "group", "group_label", "row", "option", "label",
    "count", "percent",
)  # fmt: skip
RESPONSE_COLUMNS = (
    "event_id", "pseudonym", "question", "status", "answer_id", "answer_text", "channel",
    "language", "answered_at", "region", "gateway", "counted",
)  # fmt: skip
# A spreadsheet runs a cell starting with one of these as a formula: CSV injection.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def iso(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def boolean(value: bool) -> str:
    """A yes/no column in CSV, spelt as JSON spells it: `true` or `false`."""
    return "true" if value else "false"


def inert(text: str) -> str:
    """Participant-written text, so that a spreadsheet shows it rather than runs it."""
    return "'" + text if text.startswith(_FORMULA_START) else text


# --- tallies as rows ----------------------------------------------------------------------


def tally_rows(tally: ConsultationTally) -> Iterator[tuple[Any, ...]]:
    cid = tally.consultation.id
    for q in tally.questions:
        head = (cid, q.question.id, q.question.type.value, q.question.profile)
        for row in q.rows:
            option = row.id if row.kind is RowKind.OPTION else ""
            yield (
                *head,
                row.kind.value,
                option,
                row.label,
                row.counts.sms,
                row.counts.voice,
                row.counts.total,
                row.percent,
            )
        yield (
            *head,
            "reached",
            "",
            "Reached the question",
            q.reached.sms,
            q.reached.voice,
            q.reached.total,
            100.0 if q.reached.total else None,
        )


def breakdown_rows(tally: ConsultationTally, breakdown: Breakdown) -> Iterator[tuple[Any, ...]]:
    """Long format: one row per question, group and answer row; counts below k as "<k"."""
    k = breakdown.k
    cid = tally.consultation.id
    for q in breakdown.questions:
        for group in q.groups:
            head = (cid, q.question_id, breakdown.by, group.id or "", group.label)
            for spec, cell in zip(q.rows, group.cells, strict=True):
                option = spec.id if spec.kind is RowKind.OPTION else ""
                yield (*head, spec.kind.value, option, spec.label, cell.shown(k), cell.percent)
            yield (
                *head,
                "reached",
                "",
                "Reached the question",
                group.reached.shown(k),
                None if group.reached.suppressed or not group.reached.count else 100.0,
            )


def summary_rows(tally: ConsultationTally, published: Published, now: datetime) -> list[tuple]:
    c = tally.consultation
    p = tally.participation
    return [
        ("consultation", c.id),
        ("title", c.title[c.default_language]),
        ("version", published.version),
        ("status", c.status(now).value),
        ("opens", iso(c.opens)),
        ("closes", iso(c.closes)),
        ("generated_at", iso(now)),
        ("participants", p.participants),
        ("participants_sms", p.participants_sms),
        ("participants_voice", p.participants_voice),
        ("responded", p.responded),
        ("completed", p.completed),
        ("response_rate", tally.response_rate),
        ("completion_rate", tally.completion_rate),
    ]

# --- responses as rows -------------------------------------------------------------------


class ResponseFormatter:
    """A response row's export values; labels are looked up once per distinct answer."""

    def __init__(self, consultation: Consultation) -> None:
        self.consultation = consultation
        self.questions = {q.id: q for q in consultation.steps}
        self._answers: dict[tuple[str, str], tuple[str, str]] = {}

    def is_text(self, question_id: str) -> bool:
        question = self.questions.get(question_id)
        return question is not None and question.type is QuestionType.TEXT

    def answer(self, row: ResponseRow) -> tuple[str, str]:
        """(answer id, answer text): option id and its label in the default language for
        a choice; yes/no and its word; the scale value twice; for a text question no id
        and the text (or the recording URL). Empty for unparsed, skipped, no answer."""
        if row.status != "answered" or row.value is None:
            return "", ""
        key = (row.question_id, row.value)
        known = self._answers.get(key)
        if known is not None:
            return known
        question = self.questions.get(row.question_id)
        if question is None:  # a question since removed: keep what was stored
            return row.value, row.value
        if question.type is QuestionType.TEXT:
            return "", row.value  # free text: not cached, nearly every one differs
        known = (row.value, option_label(self.consultation, question, row.value))
        self._answers[key] = known
        return known

    def values(self, row: ResponseRow) -> tuple[Any, ...]:
        answer_id, answer_text = self.answer(row)
        return (
            row.event_id,
            row.pseudonym,
            row.question_id,
            row.status,
            answer_id,
            answer_text,
            row.channel,
            row.language,
            row.answered_at,
            row.region or "",
            row.gateway,
            row.counted,
        )

    def csv_fields(self, row: ResponseRow) -> list[str]:
        """values() as CSV text, participants' text made inert; the hot path of big
        exports, so without the generic conversions of csv_chunks."""
        answer_id, answer_text = self.answer(row)
        return [
            row.event_id,
            row.pseudonym,
            row.question_id,
            row.status,
            inert(answer_id),
            inert(answer_text),
            row.channel,
            row.language,
            row.answered_at.isoformat().replace("+00:00", "Z"),
            inert(row.region or ""),
            row.gateway,
            boolean(row.counted),
        ]
