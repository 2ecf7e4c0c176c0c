"""Checking a gateway's batch of response events before anything is written.

Two kinds of check, with two kinds of answer:

- Shape (`parse_batch`): a batch is all or nothing. When any event is malformed the
  whole batch is refused with one problem per bad field (index, field, reason), and
  nothing is written. The gateway then quarantines exactly the events named and sends
  the rest again, so one poison event never blocks the outbox and a retry never has to
  work out which half was stored.
- Meaning (`check_events`), for a well-formed batch: is the event dated in the past, at
  or after its consultation opened, for a consultation, question and option the centre
  has published? Each event that is not is refused on its own, with a reason, and the
  rest of the batch is stored: these events are the gateway's honest record of something
  that does not fit the centre (a wrong clock, a consultation not published here), not
  garbage, so they wait in the gateway's quarantine until an operator fixes the cause.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.consultation.model import Consultation, Question, QuestionType

MAX_BATCH_EVENTS = 5_000
MAX_TEXT_CHARS = 4_096  # value and raw: an SMS body is at most 1,600 characters
MAX_REGION_CHARS = 64
MAX_TIMESTAMP_CHARS = 40
MAX_COUNT = 2**31 - 1  # backlog / quarantined: what an INTEGER column holds everywhere
# How far ahead of the centre's clock an event may be dated. A gateway stamps an event
# when it records it, so an event can only look "future" through clocks disagreeing: a
# few seconds between NTP-synced machines, a minute or two for a box that ran offline
# for days on its hardware clock. Five minutes covers that (it is also Kerberos' usual
# tolerance) and is far finer than anything reads answered_at at (tallies by day). Past
# it the gateway's clock is wrong (a reset RTC, a local time sent as UTC), and such an
# event would do harm: a participant's latest event is the one that counts, so a
# future-dated answer would outrank every real one given after it until that date.
CLOCK_SKEW = timedelta(minutes=5)

CHANNELS = frozenset({"sms", "voice"})
STATUSES = frozenset({"answered", "unparsed", "skipped", "no_answer"})

_CONSULTATION_ID = re.compile(r"[a-z0-9-]{1,64}")
_QUESTION_ID = re.compile(r"[a-z0-9_]{1,64}")
_PSEUDONYM = re.compile(r"[0-9a-f]{64}")
_LANGUAGE = re.compile(r"[a-z]{2,3}")


@dataclass(frozen=True)
class Problem:
    index: int | None  # position in "events"; None for the batch as a whole
    field: str | None
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {"index": self.index, "field": self.field, "reason": self.reason}


class BatchTooLarge(ValueError):
    """More events than one batch may carry (413)."""


@dataclass(frozen=True)
class Batch:
    events: list[dict[str, Any]]  # rows ready to insert, answered_at as aware UTC
    backlog: int | None  # events the gateway still holds after this batch
    quarantined: int | None = None  # events it holds back because they were refused
    # The gateway reads refusals in a 200 answer ("per_event_refusals": true). One from
    # before them marks every event of a 200 synced, so its refusals come as a 400.
    reads_refusals: bool = False


def parse_batch(payload: object) -> tuple[Batch | None, list[Problem]]:
    """The batch, or None with every problem found. Raises BatchTooLarge."""
    if not isinstance(payload, dict):
        return None, [Problem(None, None, "expected a JSON object with an 'events' list")]
    problems: list[Problem] = []
    items = payload.get("events")
    if not isinstance(items, list):
        problems.append(Problem(None, "events", "expected a list of events"))
        items = []
    elif len(items) > MAX_BATCH_EVENTS:
        raise BatchTooLarge(
            f"{len(items)} events in one batch; send at most {MAX_BATCH_EVENTS} at a time"
        )
    backlog = _count(payload, "backlog", problems)
    quarantined = _count(payload, "quarantined", problems)
    rows = []
    for index, item in enumerate(items):
        row = _valid_event(item)
        if row is None:  # something is wrong: find out exactly what, for the gateway
            row = _event(index, item, problems)
        if row is not None:
            rows.append(row)
    if problems:
        return None, problems
    return Batch(rows, backlog, quarantined, payload.get("per_event_refusals") is True), []


def _count(payload: dict[str, Any], name: str, problems: list[Problem]) -> int | None:
    value = payload.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_COUNT:
        problems.append(Problem(None, name, f"expected a whole number from 0 to {MAX_COUNT}"))
        return None
    return value


def _valid_event(item: object) -> dict[str, Any] | None:
    """The row for a well-formed event, or None; the fast path of `_event` (same rules)."""
    if type(item) is not dict:
        return None
    try:
        event_id = item["event_id"]
        consultation_id = item["consultation_id"]
        question_id = item["question_id"]
        pseudonym = item["pseudonym"]
        channel = item["channel"]
        status = item["status"]
        language = item["language"]
        answered_at = item["answered_at"]
        value = item.get("value")
        raw = item.get("raw")
        region = item.get("region")
        if not (
            type(event_id) is str and len(event_id) <= 45
            and type(consultation_id) is str and _CONSULTATION_ID.fullmatch(consultation_id)
            and type(question_id) is str and _QUESTION_ID.fullmatch(question_id)
            and type(pseudonym) is str and _PSEUDONYM.fullmatch(pseudonym)
            and channel in CHANNELS and status in STATUSES
            and type(language) is str and _LANGUAGE.fullmatch(language)
            and type(answered_at) is str and len(answered_at) <= MAX_TIMESTAMP_CHARS
            and (value is None or (type(value) is str and len(value) <= MAX_TEXT_CHARS
                                   and "\x00" not in value))
            and (raw is None or (type(raw) is str and len(raw) <= MAX_TEXT_CHARS
                                 and "\x00" not in raw))
            and (region is None or (type(region) is str and len(region) <= MAX_REGION_CHARS
                                    and "\x00" not in region))
        ):
            return None
        moment = datetime.fromisoformat(answered_at)
        if moment.tzinfo is None or moment.utcoffset() is None:
            return None
        return {
            "event_id": str(uuid.UUID(event_id)),
            "consultation_id": consultation_id,
            "question_id": question_id,
            "pseudonym": pseudonym,
            "channel": channel,
            "status": status,
            "value": value,
            "raw": raw,
            "language": language,
            "answered_at": moment.astimezone(UTC),
            "region": region,
        }
    except (KeyError, ValueError, TypeError, OverflowError):
        return None


def _event(index: int, item: object, problems: list[Problem]) -> dict[str, Any] | None:
    if not isinstance(item, dict):
        problems.append(Problem(index, None, "expected an object"))
        return None
    before = len(problems)

    def bad(field: str, reason: str) -> None:
        problems.append(Problem(index, field, reason))

    def text(field: str, *, required: bool = True, limit: int = 64) -> str | None:
        value = item.get(field)
        if value is None:
            if required:
                bad(field, "missing")
            return None
        if not isinstance(value, str):
            bad(field, "expected a string")
            return None
        if len(value) > limit:
            bad(field, f"longer than {limit} characters")
            return None
        if "\x00" in value:
            bad(field, "contains a NUL character, which cannot be stored")
            return None
        return value

    def matching(field: str, pattern: re.Pattern[str], what: str) -> str | None:
        value = text(field)
        if value is not None and pattern.fullmatch(value) is None:
            bad(field, f"expected {what}, got {value[:80]!r}")
            return None
        return value

    def one_of(field: str, allowed: frozenset[str]) -> str | None:
        value = text(field)
        if value is not None and value not in allowed:
            bad(field, f"expected one of {', '.join(sorted(allowed))}, got {value[:80]!r}")
            return None
        return value

    event_id = text("event_id", limit=45)
    if event_id is not None:
        try:
            event_id = str(uuid.UUID(event_id))  # canonical: one spelling per id
        except ValueError:
            bad("event_id", f"expected a UUID, got {event_id!r}")
    row = {
        "event_id": event_id,
        "consultation_id": matching("consultation_id", _CONSULTATION_ID, "[a-z0-9-]{1,64}"),
        "question_id": matching("question_id", _QUESTION_ID, "[a-z0-9_]{1,64}"),
        "pseudonym": matching("pseudonym", _PSEUDONYM, "64 lower-case hex digits"),
        "channel": one_of("channel", CHANNELS),
        "status": one_of("status", STATUSES),
        "value": text("value", required=False, limit=MAX_TEXT_CHARS),
        "raw": text("raw", required=False, limit=MAX_TEXT_CHARS),
        "language": matching("language", _LANGUAGE, "a 2 or 3 letter language code"),
        "answered_at": _moment(item, bad),
        "region": text("region", required=False, limit=MAX_REGION_CHARS),
    }
    return row if len(problems) == before else None


def _moment(item: dict[str, Any], bad: Any) -> datetime | None:
    value = item.get("answered_at")
    if value is None:
        bad("answered_at", "missing")
        return None
    if not isinstance(value, str) or len(value) > MAX_TIMESTAMP_CHARS:
        bad("answered_at", "expected an ISO 8601 time with a UTC offset")
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        bad("answered_at", f"not an ISO 8601 time: {value!r}")
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        bad("answered_at", f"no UTC offset in {value!r} (e.g. 2026-12-01T09:30:00+03:00)")
        return None
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        bad("answered_at", f"out of range in UTC: {value!r}")
        return None


# --- what the events mean ---------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """One well-formed event the centre will not store, and why."""

    index: int  # position in "events"
    event_id: str  # canonical
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {"index": self.index, "event_id": self.event_id, "reason": self.reason}


@dataclass(frozen=True)
class _Rules:
    """What one published consultation accepts, looked up per event."""

    id: str
    opens: datetime
    # question id -> the values an "answered" event may carry (None: any), and what
    # to say when it carries another
    answers: Mapping[str, tuple[frozenset[str] | None, str]]

    @classmethod
    def of(cls, consultation: Consultation) -> _Rules:
        return cls(
            consultation.id,
            consultation.opens.astimezone(UTC),
            {q.id: _answers(q) for q in consultation.steps},
        )


def _answers(question: Question) -> tuple[frozenset[str] | None, str]:
    if question.type is QuestionType.CHOICE:
        ids = [o.id for o in question.options]
        return frozenset(ids), f"one of its options ({', '.join(ids)})"
    if question.type is QuestionType.YES_NO:
        return frozenset({"yes", "no"}), "yes or no"
    low, high = question.min, question.max  # the loader requires both for a scale
    if question.type is QuestionType.SCALE and low is not None and high is not None:
        # The spelling the gateway sends ("3", not "03" or "3.0"): one answer, one tally row.
        return (frozenset(str(n) for n in range(low, high + 1)),
                f"a whole number from {low} to {high}")
    return None, "any text"


def check_events(
    events: list[dict[str, Any]],
    published: Mapping[str, Consultation | None],
    now: datetime,
) -> tuple[list[dict[str, Any]], list[Refusal]]:
    """Split the rows of a well-formed batch into those to store and those refused.

    `published` maps each consultation id the centre has to its parsed definition (None
    when the published text no longer validates). One reason per refused event: the
    first of its clock, its consultation, its date against the opening, its question,
    its answer.
    """
    latest = now + CLOCK_SKEW
    rules: dict[str, _Rules | None] = {}
    kept: list[dict[str, Any]] = []
    refused: list[Refusal] = []
    for index, event in enumerate(events):
        consultation_id = event["consultation_id"]
        if consultation_id not in rules:
            consultation = published.get(consultation_id)
            rules[consultation_id] = None if consultation is None else _Rules.of(consultation)
        reason = _refusal(event, rules[consultation_id], consultation_id in published, latest,
                          now)
        if reason is None:
            kept.append(event)
        else:
            refused.append(Refusal(index, event["event_id"], reason))
    return kept, refused


def _refusal(
    event: dict[str, Any], rules: _Rules | None, published: bool, latest: datetime,
    now: datetime,
) -> str | None:
    answered_at: datetime = event["answered_at"]
    if answered_at > latest:
        ahead = _duration(answered_at - now)
        return (f"answered_at {answered_at.isoformat()} is {ahead} ahead of the central "
                f"store's clock (at most {_duration(CLOCK_SKEW)} allowed): check the "
                "gateway's clock")
    consultation_id = event["consultation_id"]
    if rules is None:
        if published:
            return (f"consultation {consultation_id!r} is published at the central store "
                    "but its definition no longer validates there")
        return f"consultation {consultation_id!r} is not published at the central store"
    if answered_at < rules.opens:
        return (f"answered_at {answered_at.isoformat()} is before consultation "
                f"{consultation_id!r} opened ({rules.opens.isoformat()})")
    question_id = event["question_id"]
    answers = rules.answers.get(question_id)
    if answers is None:
        return f"consultation {consultation_id!r} has no question {question_id!r}"
    allowed, expected = answers
    value = event["value"]
    if event["status"] == "answered" and allowed is not None and value not in allowed:
        shown = "no value" if value is None else repr(value[:80])
        return (f"answer {shown} to question {question_id!r} of {consultation_id!r}: "
                f"expected {expected}")
    return None


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{n} {unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "min"),
                                          (seconds, "s")) if n]
    return " ".join(parts) or "0 s"
