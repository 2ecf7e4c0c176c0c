"""What officials do with outreach, for the dashboard and `civicline outreach` alike:
define it (outreach_planning.py's rules), start, pause or cancel it, and read what the
gateways reported: the preview (summed over gateways) and the progress of each."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from gateway.central.officials.outreach_planning import (
    OutreachInvalid,
    OutreachRequest,
    Planner,
)
from gateway.central.officials.reports import (
    Published,
    Reports,
    UnknownConsultation,
    UnreadableConsultation,
)
from gateway.central.store.outreach import (
    COUNT_STATES,
    Outreach,
    OutreachStatus,
    OutreachStore,
    ProgressReport,
)

EXCLUSION_REASONS = (
    "opted_out", "contacted_already", "invalid_number", "unreachable", "no_consent_basis",
    "outside_hours",
)  # fmt: skip


@dataclass(frozen=True)
class Preview:
    """The gateways' latest previews, summed: what starting would cost."""

    gateways: int  # how many gateways have reported a preview
    recipients: dict[tuple[str, str], int] = field(default_factory=dict)  # (lang, channel)
    encoding: str = "GSM-7"  # UCS-2 if any gateway's messages need it
    per_message: int = 0  # segments per message, the most any gateway reported
    segments: int = 0  # in total
    excluded: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.recipients.values())


@dataclass(frozen=True)
class Progress:
    """Each gateway's latest counts, and their sums."""

    reports: list[ProgressReport]

    @property
    def totals(self) -> dict[str, int]:
        summed: Counter[str] = Counter()
        for report in self.reports:
            summed.update({state: int(report.counts.get(state, 0)) for state in COUNT_STATES})
        summed["answered"] = sum(r.answered for r in self.reports)
        return {key: summed[key] for key in (*COUNT_STATES, "answered")}


def summed_preview(reports: Sequence[ProgressReport]) -> Preview:
    recipients: Counter[tuple[str, str]] = Counter()
    excluded: Counter[str] = Counter()
    encoding, per_message, total, count = "GSM-7", 0, 0, 0
    for report in reports:
        preview = report.preview
        if not preview:
            continue
        count += 1
        for row in preview.get("recipients", []):
            recipients[(row["language"], row["channel"])] += int(row["count"])
        segments = preview.get("segments") or {}
        if segments.get("encoding") == "UCS-2":
            encoding = "UCS-2"
        per_message = max(per_message, int(segments.get("per_message", 0)))
        total += int(segments.get("total", 0))
        excluded.update({k: int(v) for k, v in (preview.get("excluded") or {}).items()})
    return Preview(
        gateways=count, recipients=dict(sorted(recipients.items())), encoding=encoding,
        per_message=per_message, segments=total,
        excluded={reason: excluded[reason] for reason in EXCLUSION_REASONS if excluded[reason]},
    )  # fmt: skip


class OutreachDesk:
    def __init__(self, engine: Engine, reports: Reports) -> None:
        self.store = OutreachStore(engine)
        self.reports = reports

    def consultation(self, consultation_id: str) -> Published:
        try:
            return self.reports.consultation(consultation_id)
        except UnknownConsultation:
            known = ", ".join(row.id for row in self.reports.store.published()) or "none"
            raise OutreachInvalid(
                [f"consultation: no published consultation {consultation_id!r} "
                 f"(published: {known})"]
            ) from None  # fmt: skip
        except UnreadableConsultation as exc:
            raise OutreachInvalid([f"consultation: {exc}"]) from exc

    def create(self, request: OutreachRequest, by: str, now: datetime) -> Outreach:
        """A draft checked against the rules; raises OutreachInvalid."""
        published = self.consultation(request.consultation_id)
        tally = None
        if request.kind == "results" and not published.embargoed(now):
            tally = self.reports.tally(published)  # the tallies, never a breakdown
        fields = Planner(published, now).plan(request, tally)
        return self.store.create(fields, by, now)

    def start(self, outreach_id: str, now: datetime) -> Outreach:
        """Start (or resume) it; refused once its window ended, and for results while
        the consultation is open or under embargo (its dates may have moved since)."""
        outreach = self.store.require(outreach_id)
        if outreach.fields.ends_at <= now:
            raise OutreachInvalid(
                [
                    f"outreach {outreach_id}: its window ended at "
                    f"{outreach.fields.ends_at.isoformat()}"
                ]
            )
        if outreach.kind == "results":
            planner = Planner(self.consultation(outreach.consultation_id), now)
            planner.results_allowed()
            if planner.problems:
                raise OutreachInvalid(planner.problems)
        return self.store.change(outreach_id, now, status=OutreachStatus.STARTED)

    def pause(self, outreach_id: str, now: datetime) -> Outreach:
        return self.store.change(outreach_id, now, status=OutreachStatus.PAUSED)

    def cancel(self, outreach_id: str, now: datetime) -> Outreach:
        return self.store.change(outreach_id, now, status=OutreachStatus.CANCELLED)

    def preview(self, outreach_id: str) -> Preview:
        self.store.require(outreach_id)
        return summed_preview(self.store.progress(outreach_id))

    def progress(self, outreach_id: str) -> Progress:
        self.store.require(outreach_id)
        return Progress(self.store.progress(outreach_id))
