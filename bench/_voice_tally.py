"""What the voice bench's calls saw, per caller thread or for a whole run."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Tally:
    """What one caller thread (or a whole run) saw."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {"start": [], "step": []})
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    twiml: Counter[str] = field(default_factory=Counter)  # kinds of answer
    calls: Counter[str] = field(default_factory=Counter)  # how calls ended
    retries: int = 0
    retries_differing: int = 0  # a retried request answered with other TwiML
    not_advanced: int = 0  # a step whose answer's action URL did not move on
    requests_per_call: list[int] = field(default_factory=list)

    @property
    def completed(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    def merge(self, other: Tally) -> None:
        for kind, values in other.latencies.items():
            self.latencies.setdefault(kind, []).extend(values)
        self.statuses.update(other.statuses)
        self.errors.update(other.errors)
        self.twiml.update(other.twiml)
        self.calls.update(other.calls)
        self.retries += other.retries
        self.retries_differing += other.retries_differing
        self.not_advanced += other.not_advanced
        self.requests_per_call += other.requests_per_call


def twiml_kind(root: ET.Element) -> str:
    verbs = [child.tag for child in root]
    if "Reject" in verbs:
        return "reject"
    if verbs[-1:] == ["Hangup"]:
        return "hangup"
    if "Record" in verbs:
        return "record"
    if "Gather" in verbs:
        return "gather"
    return "+".join(verbs) or "empty"
