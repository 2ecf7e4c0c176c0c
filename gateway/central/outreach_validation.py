"""Checking a gateway's outreach progress report (POST /api/v1/outreach/progress) strictly.

The shape is docs/outreach.md's, section 3: known keys only, counts as whole numbers, ids
as the centre makes them. The centre never takes a phone number: any key or text in the
body that looks like one refuses the whole report, before anything else is looked at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

OUTREACH_ID = re.compile(r"o-[0-9a-f]{12}")
LANGUAGE = re.compile(r"[a-z]{2,3}")
# Seven or more digits, however spaced or punctuated, with or without a +: a phone number
# as people and gateways write one. No text the report may hold has that many digits.
PHONE_LIKE = re.compile(r"\+?\d(?:[\s().-]*\d){6,}")
MAX_REPORTS = 1_000
MAX_COUNT = 10**9

COUNT_KEYS = ("pending", "sending", "sent", "delivered", "failed", "excluded")
EXCLUDED_KEYS = (
    "opted_out", "contacted_already", "invalid_number", "unreachable", "no_consent_basis",
    "outside_hours",
)  # fmt: skip
ENCODINGS = ("GSM-7", "UCS-2")
CHANNELS = ("sms", "voice")


@dataclass(frozen=True)
class Report:
    id: str
    version: int
    counts: dict[str, int]
    answered: int
    preview: dict[str, Any] | None


class ProgressInvalid(ValueError):
    """The report is refused whole; `problems` say where and why."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def _strings(value: object, path: str) -> Iterator[tuple[str, str]]:
    """(path, text) of every key and text in `value`, however deep; a path never holds
    a key that looks like a phone number (an error message must not carry one)."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield f"{path or 'body'} (a key)", str(key)  # named by where it is, not by itself
            if PHONE_LIKE.search(str(key)):
                continue
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def phone_like(payload: object) -> list[str]:
    """Where the payload holds something that looks like a phone number (an outreach id,
    whose hex digits may run seven in a row, is one of the centre's own)."""
    return [f"{path or 'body'}: looks like a phone number; the centre never takes one"
            for path, text in _strings(payload, "")
            if PHONE_LIKE.search(text) and not OUTREACH_ID.fullmatch(text)]  # fmt: skip


class _Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def mapping(self, value: object, path: str, required: tuple[str, ...],
                optional: tuple[str, ...] = ()) -> dict[str, Any] | None:  # fmt: skip
        if not isinstance(value, dict):
            self.problems.append(f"{path}: expected an object")
            return None
        unknown = sorted(set(value) - set(required) - set(optional))
        if unknown:
            self.problems.append(f"{path}: unknown keys {', '.join(unknown)}")
        missing = [key for key in required if key not in value]
        if missing:
            self.problems.append(f"{path}: missing {', '.join(missing)}")
        return None if unknown or missing else value

    def count(self, value: object, path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
            self.problems.append(f"{path}: expected a whole number from 0 to {MAX_COUNT}")
            return 0
        return value

    def counts(self, value: object, path: str, keys: tuple[str, ...]) -> dict[str, int]:
        data = self.mapping(value, path, (), keys)
        if data is None:
            return {}
        return {key: self.count(data[key], f"{path}.{key}") for key in keys if key in data}

    def choice(self, value: object, path: str, allowed: tuple[str, ...]) -> None:
        if value not in allowed:
            self.problems.append(f"{path}: expected one of {', '.join(allowed)}")

    def preview(self, value: object, path: str) -> dict[str, Any] | None:
        if value is None:
            return None
        data = self.mapping(value, path, ("recipients", "segments", "excluded"))
        if data is None:
            return None
        recipients = data["recipients"]
        if not isinstance(recipients, list) or len(recipients) > 100:
            self.problems.append(f"{path}.recipients: expected a list of at most 100 rows")
            recipients = []
        for index, row in enumerate(recipients):
            where = f"{path}.recipients[{index}]"
            fields = self.mapping(row, where, ("language", "channel", "count"))
            if fields is None:
                continue
            if not isinstance(fields["language"], str) or not LANGUAGE.fullmatch(
                fields["language"]
            ):
                self.problems.append(f"{where}.language: expected a language code such as sw")
            self.choice(fields["channel"], f"{where}.channel", CHANNELS)
            self.count(fields["count"], f"{where}.count")
        segments = self.mapping(data["segments"], f"{path}.segments",
                                ("encoding", "per_message", "total"))  # fmt: skip
        if segments is not None:
            self.choice(segments["encoding"], f"{path}.segments.encoding", ENCODINGS)
            self.count(segments["per_message"], f"{path}.segments.per_message")
            self.count(segments["total"], f"{path}.segments.total")
        self.counts(data["excluded"], f"{path}.excluded", EXCLUDED_KEYS)
        return data

    def report(self, value: object, path: str) -> Report | None:
        data = self.mapping(value, path, ("id", "version", "counts"), ("preview", "answered"))
        if data is None:
            return None
        before = len(self.problems)
        outreach_id = data["id"]
        if not isinstance(outreach_id, str) or not OUTREACH_ID.fullmatch(outreach_id):
            self.problems.append(f"{path}.id: expected an outreach id such as o-3f9a1c2b7d4e")
        version = data["version"]
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            self.problems.append(f"{path}.version: expected a whole number from 1")
        counts = self.counts(data["counts"], f"{path}.counts", COUNT_KEYS)
        answered = self.count(data.get("answered", 0), f"{path}.answered")
        preview = self.preview(data.get("preview"), f"{path}.preview")
        if len(self.problems) > before:
            return None
        return Report(outreach_id, version, counts, answered, preview)


def parse_progress(payload: object) -> list[Report]:
    """The reports in `payload`; raises ProgressInvalid with every problem."""
    problems = phone_like(payload)
    if problems:
        raise ProgressInvalid(problems)
    checker = _Checker()
    data = checker.mapping(payload, "body", ("outreach",))
    if data is None:
        raise ProgressInvalid(checker.problems)
    items = data["outreach"]
    if not isinstance(items, list) or len(items) > MAX_REPORTS:
        raise ProgressInvalid([f"outreach: expected a list of at most {MAX_REPORTS} reports"])
    reports = [checker.report(item, f"outreach[{index}]") for index, item in enumerate(items)]
    seen: set[str] = set()
    for index, report in enumerate(reports):
        if report is not None and report.id in seen:
            checker.problems.append(f"outreach[{index}].id: {report.id} is reported twice")
        if report is not None:
            seen.add(report.id)
    if checker.problems:
        raise ProgressInvalid(checker.problems)
    return [r for r in reports if r is not None]
