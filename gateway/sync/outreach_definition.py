"""An outreach as the centre publishes it (docs/outreach.md §2), read into a value.

The gateway caches the JSON as received (gateway/store/outreach.py) and reads it with
`parse_outreach`, which refuses anything it could not act on safely, naming the field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

KINDS = ("invitation", "reminder", "results")
STATUSES = ("draft", "started", "paused", "cancelled")
CHANNELS = ("sms", "voice")
PARTICIPANT_FILTERS = ("all", "completed", "not_completed")


class OutreachInvalid(ValueError):
    """A published outreach this gateway cannot read; the message names the field."""


@dataclass(frozen=True)
class Audience:
    source: str  # participants | contacts
    participants: str | None  # all | completed | not_completed (source participants)
    list: str | None  # contact list name (source contacts)
    languages: tuple[str, ...] | None  # None: every language
    regions: tuple[str, ...] | None  # None: every region


@dataclass(frozen=True)
class Hours:
    start: time
    end: time
    timezone: ZoneInfo

    def contains(self, moment: datetime) -> bool:
        """Whether `moment` falls within the hours, in their time zone."""
        local = moment.astimezone(self.timezone).time().replace(tzinfo=None)
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end  # e.g. 20:00-02:00


@dataclass(frozen=True)
class OutreachDefinition:
    id: str
    version: int
    consultation_id: str
    kind: str
    audience: Audience
    channels: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime
    hours: Hours
    texts: dict[str, str]
    status: str

    def in_window(self, moment: datetime) -> bool:
        return self.starts_at <= moment < self.ends_at

    def sendable(self, moment: datetime) -> bool:
        """Started, inside its window and its hours: rows may be sent now."""
        return self.status == "started" and self.in_window(moment) \
            and self.hours.contains(moment)


def parse_outreach(data: Any) -> OutreachDefinition:
    """One definition from its JSON (a dict, or the text of one)."""
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise OutreachInvalid(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise OutreachInvalid("an outreach must be a JSON object")
    ident = _text(data, "id")
    try:
        return _parse(data, ident)
    except OutreachInvalid as exc:
        raise OutreachInvalid(f"outreach {ident}: {exc}") from None


def _parse(data: dict[str, Any], ident: str) -> OutreachDefinition:
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise OutreachInvalid("version must be an integer")
    kind = _choice(data, "kind", KINDS)
    status = _choice(data, "status", STATUSES)
    channels = data.get("channels")
    if not isinstance(channels, list) or not channels or \
            any(c not in CHANNELS for c in channels):
        raise OutreachInvalid(f"channels must be a non-empty list of {', '.join(CHANNELS)}")
    texts = data.get("texts")
    if not isinstance(texts, dict) or not texts or \
            any(not isinstance(k, str) or not isinstance(v, str) or not v.strip()
                for k, v in texts.items()):
        raise OutreachInvalid("texts must map each language to a non-empty text")
    starts_at, ends_at = _moment(data, "starts_at"), _moment(data, "ends_at")
    if ends_at <= starts_at:
        raise OutreachInvalid("ends_at must be after starts_at")
    audience = _audience(data.get("audience"))
    if kind == "reminder" and (audience.source, audience.participants) != \
            ("participants", "not_completed"):
        raise OutreachInvalid("a reminder's audience must be participants: not_completed")
    return OutreachDefinition(
        id=ident, version=version, consultation_id=_text(data, "consultation_id"), kind=kind,
        audience=audience, channels=tuple(dict.fromkeys(channels)), starts_at=starts_at,
        ends_at=ends_at, hours=_hours(data.get("hours")), texts=dict(texts), status=status,
    )


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        raise OutreachInvalid(f"{name} must be a non-empty text of at most 64 characters")
    return value


def _choice(data: dict[str, Any], name: str, allowed: tuple[str, ...]) -> str:
    value = data.get(name)
    if value not in allowed:
        raise OutreachInvalid(f"{name} must be one of {', '.join(allowed)} (got {value!r})")
    return str(value)


def _moment(data: dict[str, Any], name: str) -> datetime:
    value = data.get(name)
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise OutreachInvalid(f"{name} must be an ISO 8601 time (got {value!r})") from None
    if moment.tzinfo is None:
        raise OutreachInvalid(f"{name} must carry its UTC offset")
    return moment


def _names(value: Any, name: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or any(not isinstance(v, str) for v in value):
        raise OutreachInvalid(f"audience.{name} must be null or a list of names")
    return tuple(value)


def _audience(value: Any) -> Audience:
    if not isinstance(value, dict):
        raise OutreachInvalid("audience must be an object")
    source = value.get("source")
    if source == "participants":
        chosen = value.get("participants") or "all"
        if chosen not in PARTICIPANT_FILTERS:
            raise OutreachInvalid(
                f"audience.participants must be one of {', '.join(PARTICIPANT_FILTERS)}")
        listed = None
    elif source == "contacts":
        chosen = None
        listed = value.get("list")
        if not isinstance(listed, str) or not listed.strip():
            raise OutreachInvalid("audience.list must name a contact list")
    else:
        raise OutreachInvalid("audience.source must be participants or contacts")
    return Audience(source, chosen, listed, _names(value.get("languages"), "languages"),
                    _names(value.get("regions"), "regions"))


def _clock(value: Any, name: str) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise OutreachInvalid(f"hours.{name} must be HH:MM (got {value!r})") from None


def _hours(value: Any) -> Hours:
    if not isinstance(value, dict):
        raise OutreachInvalid("hours must be an object with from, to and timezone")
    try:
        zone = ZoneInfo(str(value.get("timezone")))
    except (ZoneInfoNotFoundError, ValueError):
        raise OutreachInvalid(
            f"hours.timezone is not a known time zone: {value.get('timezone')!r}") from None
    return Hours(_clock(value.get("from"), "from"), _clock(value.get("to"), "to"), zone)
