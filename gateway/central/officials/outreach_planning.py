"""The rules of outreach, as officials define it (the dashboard's Outreach page and
`civicline outreach`): from what they ask for to a definition the store keeps.

- kind `reminder`: always to participants who started and did not finish;
- kind `results`: only after the consultation closed, never while its embargo holds, by
  SMS; its texts are filled here from the centre's tallies (the top answer of the first
  question with answers to count, its percentage, the number of participants), in each
  language, never from breakdowns;
- invitations and reminders say STOP; every text fits one SMS segment once filled;
- the window ends after it starts and in the future, lasts at most MAX_WINDOW, and lies
  within the consultation (before it closes; results after);
- hours default to 08:00-20:00 in the consultation's time zone; texts to its own block.

Every problem is collected and raised together in OutreachInvalid, worded for the form
and the command line alike.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from gateway.central.officials.reports import Published
from gateway.central.officials.tallies import ConsultationTally
from gateway.central.store.outreach import OutreachFields
from gateway.consultation.answers import answer_label
from gateway.consultation.model import Consultation
from gateway.consultation.outreach_texts import (
    KINDS,
    a_kind,
    fill,
    results_question,
    segment_problem,
    template_problem,
)

CHANNELS = ("sms", "voice")
SOURCES = ("participants", "contacts")
PARTICIPANTS = ("all", "completed", "not_completed")
DEFAULT_HOURS = ("08:00", "20:00")
MAX_WINDOW = timedelta(days=31)
_HOUR = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
_LIST_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


class OutreachInvalid(ValueError):
    """What an official asked for breaks these rules; every problem, one per line."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class OutreachRequest:
    """An outreach as an official asks for it: text from a form or the command line."""

    consultation_id: str
    kind: str
    channels: Sequence[str] = ("sms",)
    starts_at: str = ""
    ends_at: str = ""
    source: str = "participants"
    participants: str = ""  # "" : all (a reminder: not_completed)
    contact_list: str = ""
    languages: Sequence[str] = ()  # () : every language
    regions: Sequence[str] = ()  # () : every region
    hours_from: str = ""
    hours_to: str = ""
    texts: Mapping[str, str] = field(default_factory=dict)  # language -> text (template)


def zone_name(zone: tzinfo) -> str:
    """The zone as gateways read it: an IANA name (Etc/GMT-3 for a whole-hour offset)."""
    if isinstance(zone, ZoneInfo):
        return zone.key
    offset = zone.utcoffset(None) or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    if minutes == 0:
        return "UTC"
    if minutes % 60 == 0:
        return f"Etc/GMT{-minutes // 60:+d}"  # POSIX sign: Etc/GMT-3 is UTC+03:00
    sign = "+" if minutes > 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def top_answer(tally: ConsultationTally, language: str) -> tuple[str, str] | None:
    """(label in `language`, whole percent) of the most chosen answer, or None."""
    consultation = tally.consultation
    question = results_question(consultation)
    if question is None:
        return None
    rows = tally.question(question.id).options
    best = max(rows, key=lambda row: row.counts.total, default=None)  # first of equals
    if best is None or best.counts.total == 0 or best.percent is None:
        return None
    label = answer_label(consultation, question, best.id, language)
    return label, str(round(best.percent))


class Planner:
    """Checks an OutreachRequest against its consultation and the rules above."""

    def __init__(self, published: Published, now: datetime) -> None:
        self.published = published
        self.consultation: Consultation = published.consultation
        self.now = now
        self.problems: list[str] = []

    def problem(self, message: str) -> None:
        self.problems.append(message)

    def plan(self, request: OutreachRequest, tally: ConsultationTally | None) -> OutreachFields:
        """The definition to store; raises OutreachInvalid with every problem."""
        if request.kind not in KINDS:
            raise OutreachInvalid([f"kind: {request.kind!r} is not one of {', '.join(KINDS)}"])
        zone = self.consultation.timezone
        assert zone is not None
        audience = self.audience(request)
        channels = self.channels(request)
        starts_at, ends_at = self.window(request, zone)
        hours = self.hours(request)
        allowed = request.kind != "results" or self.results_allowed()
        texts = self.texts(request, audience, tally) if allowed else {}
        if self.problems:
            raise OutreachInvalid(self.problems)
        assert starts_at is not None and ends_at is not None
        return OutreachFields(
            consultation_id=self.consultation.id, kind=request.kind, audience=audience,
            channels=channels, starts_at=starts_at, ends_at=ends_at, hours_from=hours[0],
            hours_to=hours[1], timezone=zone_name(zone), texts=texts,
        )  # fmt: skip

    def audience(self, request: OutreachRequest) -> dict[str, object]:
        source, who = request.source or "participants", request.participants
        if source not in SOURCES:
            self.problem(f"audience: {source!r} is not one of {', '.join(SOURCES)}")
        if request.kind == "reminder":
            if source != "participants" or who not in ("", "not_completed"):
                self.problem(
                    "audience: a reminder goes to the participants who started and "
                    "did not finish (participants not_completed), nobody else"
                )
            who = "not_completed"
        if source == "participants" and (who or "all") not in PARTICIPANTS:
            self.problem(f"participants: {who!r} is not one of {', '.join(PARTICIPANTS)}")
        name = request.contact_list.strip()
        if source == "contacts" and not _LIST_NAME.fullmatch(name):
            self.problem(
                "list: a contact audience needs the name of a contact list imported "
                "on the gateways (letters, digits, _ . -; at most 64)"
            )
        if source == "participants" and name:
            self.problem("list: only a contact audience has a contact list")
        if source == "contacts" and request.kind != "reminder" and who:
            self.problem(
                "participants: only an audience of participants is chosen by how far they got"
            )
        languages = [lang.strip() for lang in request.languages if lang.strip()]
        unknown = [lang for lang in languages if lang not in self.consultation.languages]
        if unknown:
            self.problem(
                f"languages: {', '.join(unknown)} not among the consultation's "
                f"({', '.join(self.consultation.languages)})"
            )
        regions = [r.strip() for r in request.regions if r.strip()]
        if any(len(r) > 64 for r in regions):
            self.problem("regions: a region name has at most 64 characters")
        return {
            "source": source,
            "participants": (who or "all") if source == "participants" else None,
            "list": name if source == "contacts" else None,
            "languages": sorted(set(languages)) or None,
            "regions": sorted(set(regions)) or None,
        }

    def channels(self, request: OutreachRequest) -> tuple[str, ...]:
        wanted = [c.strip() for c in request.channels if c.strip()]
        if not wanted:
            self.problem("channels: choose sms, voice or both")
        unknown = [c for c in wanted if c not in CHANNELS]
        if unknown:
            self.problem(f"channels: {', '.join(map(repr, unknown))} not sms or voice")
        if request.kind == "results" and "voice" in wanted:
            self.problem(
                "channels: results are sent by SMS only (a call opens the voice "
                "flow of a consultation that is closed)"
            )
        return tuple(c for c in CHANNELS if c in wanted)

    def moment(self, value: str, name: str, zone: tzinfo) -> datetime | None:
        """An ISO 8601 date and time; without an offset, in the consultation's zone."""
        if not value.strip():
            self.problem(f"{name}: missing (a date and time, e.g. 2026-12-03T08:00)")
            return None
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            self.problem(f"{name}: {value!r} is not a date and time such as 2026-12-03T08:00")
            return None
        return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment

    def window(
        self, request: OutreachRequest, zone: tzinfo
    ) -> tuple[datetime | None, datetime | None]:
        starts = self.moment(request.starts_at, "starts_at", zone)
        ends = self.moment(request.ends_at, "ends_at", zone)
        if starts is None or ends is None:
            return starts, ends
        c = self.consultation
        closes = c.closes.isoformat()
        if ends <= starts:
            self.problem(
                f"ends_at: {ends.isoformat()} must be after starts_at ({starts.isoformat()})"
            )
        elif ends - starts > MAX_WINDOW:
            self.problem(f"ends_at: a window lasts at most {MAX_WINDOW.days} days")
        if ends <= self.now:
            self.problem(f"ends_at: {ends.isoformat()} is already past")
        if request.kind == "results" and starts < c.closes:
            self.problem(f"starts_at: results are sent after the consultation closes ({closes})")
        if request.kind != "results" and ends > c.closes:
            self.problem(
                f"ends_at: the consultation closes at {closes}; {a_kind(request.kind)} must "
                "end by then"
            )
        return starts, ends

    def hours(self, request: OutreachRequest) -> tuple[str, str]:
        start = request.hours_from.strip() or DEFAULT_HOURS[0]
        end = request.hours_to.strip() or DEFAULT_HOURS[1]
        for name, value in (("hours_from", start), ("hours_to", end)):
            if not _HOUR.fullmatch(value):
                self.problem(f"{name}: {value!r} is not a time of day such as 08:00")
                return DEFAULT_HOURS
        if end <= start:
            self.problem(f"hours_to: {end} must be after hours_from ({start}) on the same day")
        return start, end

    def results_allowed(self) -> bool:
        """Results only once the consultation closed and its embargo lifted."""
        c = self.consultation
        if self.now <= c.closes:
            self.problem(
                f"kind: results can be defined once {c.id} has closed ({c.closes.isoformat()})"
            )
            return False
        if self.published.embargoed(self.now):
            self.problem(f"kind: the results of {c.id} are under embargo")
            return False
        return True

    def texts(
        self,
        request: OutreachRequest,
        audience: Mapping[str, object],
        tally: ConsultationTally | None,
    ) -> dict[str, str]:
        """The final text of each language the audience may speak."""
        c = self.consultation
        own: Mapping[str, str] = getattr(c, request.kind)
        for language in request.texts:
            if language not in c.languages:
                self.problem(f"texts.{language}: not a language of {c.id}")
        languages = audience.get("languages") or c.languages
        texts: dict[str, str] = {}
        for language in languages:  # type: ignore[union-attr]
            template = (request.texts.get(language) or "").strip() or own.get(language)
            if template is None:
                self.problem(
                    f"texts.{language}: no {request.kind} text: give one, or add "
                    f"{request.kind}: to the consultation file"
                )
                continue
            problem = template_problem(request.kind, template)
            if problem:
                self.problem(f"texts.{language}: {problem}")
                continue
            values: dict[str, object] = {}
            if request.kind == "results":
                found = top_answer(tally, language) if tally is not None else None
                if found is None or tally is None:
                    self.problem("texts: no answers counted yet, so there are no results to send")
                    return texts
                values = {
                    "top_option": found[0],
                    "top_percent": found[1],
                    "participants": tally.participation.participants,
                }
            text = fill(c, request.kind, language, template, **values)
            problem = segment_problem(text)
            if problem:
                self.problem(f"texts.{language}: {problem}")
            texts[language] = text
        return texts
