"""Checking a gateway's batch of response events before anything is written.

A batch is all or nothing: when any event is malformed the whole batch is refused with
one problem per bad field (index, field, reason), and nothing is written. The gateway
then quarantines exactly the events named and sends the rest again, so one poison event
never blocks the outbox and a retry never has to work out which half was stored.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

MAX_BATCH_EVENTS = 5_000
MAX_TEXT_CHARS = 4_096  # value and raw: an SMS body is at most 1,600 characters
MAX_REGION_CHARS = 64
MAX_TIMESTAMP_CHARS = 40
MAX_COUNT = 2**31 - 1  # backlog / quarantined: what an INTEGER column holds everywhere

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
    return Batch(rows, backlog, quarantined), []


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
