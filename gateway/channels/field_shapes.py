"""The documented shapes of the Twilio form fields the routes read, checked in one place.

X-Twilio-Signature joins every parameter's name and value with no separator, so a captured
request stays "validly signed" when the next field's name and value are folded into a
value: `MessageSid=SM…` and `NumMedia=0` become `MessageSid=SM…NumMedia0`. That would be a
new MessageSid, so a replayed STOP or answer would be taken as a new message. A fold always
lengthens a value by a PascalCase name and its value, so a field read in its documented
shape, and fields that repeat one another checked equal, cannot hide one.

Every Twilio route reads its ids, and the fields a fold could hide in, through these
functions, before anything is recorded; each refuses a malformed field with a 400 naming
it and its shape. Two fields are read without a shape: Body, which is free text (a fold
into it removes From, which is required), and an SMS From, which a fold turns into
something that is not a phone number (no reply, nothing recorded). Fields no route reads
are left as sent: a fold into one moves fields but leaves the id, so it is a retry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest

Form = MultiDict[str, str]


@dataclass(frozen=True)
class Shape:
    pattern: re.Pattern[str]
    description: str  # completes "<field> must be …"

    def fits(self, value: str) -> bool:
        return self.pattern.fullmatch(value) is not None


def _shape(pattern: str, description: str) -> Shape:
    return Shape(re.compile(pattern), description)


def _sid(prefixes: str) -> Shape:
    return _shape(rf"(?:{prefixes})[0-9a-f]{{32}}",
                  f"{prefixes.replace('|', ' or ')} followed by 32 lower-case hex digits")


MESSAGE_SID = _sid("SM|MM")
CALL_SID = _sid("CA")
RECORDING_SID = _sid("RE")
ACCOUNT_SID = _sid("AC")
# A Gather's keys; a Record's finishing key, or "hangup" when the caller hung up.
KEYS = _shape(r"[0-9*#]*|hangup", "only the keys 0-9, * and #, or hangup")
WHOLE_NUMBER = _shape(r"[0-9]+", "a whole number")
# CallStatus (in-progress, no-answer), MessageStatus (partially_delivered), Direction
# (outbound-api): lower-case words. A folded name starts with a capital.
STATE = _shape(r"[a-z][a-z_-]{0,31}", "a lower-case word such as in-progress")
# The REST resource of the recording: the account and the recording are the ones the
# request's AccountSid and RecordingSid name.
RECORDING_URL = _shape(
    r"https://[A-Za-z0-9.-]+(?::[0-9]{1,5})?/2010-04-01/Accounts/(?P<account>AC[0-9a-f]{32})"
    r"/Recordings/(?P<recording>RE[0-9a-f]{32})",
    "https://<host>/2010-04-01/Accounts/<AccountSid>/Recordings/<RecordingSid>",
)
MAX_DURATION_DIGITS = 9  # a longer RecordingDuration is read as this many nines


class MalformedField(BadRequest):
    """A signed request whose field is not in its documented shape: a 400 naming it."""


def _one(form: Form, name: str) -> str | None:
    """The field's value; None when absent. Twilio sends each of these fields once."""
    values = form.getlist(name)
    if len(values) > 1:
        raise MalformedField(f"{name} must be sent once, not {len(values)} times")
    return values[0] if values else None


def required(form: Form, name: str, shape: Shape) -> str:
    found = _match(form, name, shape)
    if found is None:
        raise MalformedField(f"missing required field {name}")
    return found[0]


def optional(form: Form, name: str, shape: Shape) -> str | None:
    """The field in its shape, or None when absent (or empty: Twilio's way of saying none)."""
    found = _match(form, name, shape)
    return found[0] if found is not None else None


def _match(form: Form, name: str, shape: Shape) -> re.Match[str] | None:
    value = _one(form, name)
    if not value:
        return None
    match = shape.pattern.fullmatch(value)
    if match is None:
        raise MalformedField(f"{name} must be {shape.description}")
    return match


def _same(form: Form, name: str, value: str, shape: Shape, of: str) -> None:
    other = optional(form, name, shape)
    if other is not None and other != value:
        raise MalformedField(f"{name} must equal {of}")


# --- the ids each route reads ----------------------------------------------------------------


def message_sid(form: Form) -> str:
    """MessageSid, with SmsSid and SmsMessageSid (Twilio's older names for it) equal to it
    where sent, and AccountSid well-formed where sent."""
    sid = required(form, "MessageSid", MESSAGE_SID)
    for alias in ("SmsSid", "SmsMessageSid"):
        _same(form, alias, sid, MESSAGE_SID, "MessageSid")
    optional(form, "AccountSid", ACCOUNT_SID)
    return sid


def call_sid(form: Form) -> str:
    """CallSid, and AccountSid well-formed where sent."""
    sid = required(form, "CallSid", CALL_SID)
    optional(form, "AccountSid", ACCOUNT_SID)
    return sid


# --- the other fields a route reads -------------------------------------------------------


def state(form: Form, name: str) -> str:
    """A status or direction word; "" when absent."""
    return optional(form, name, STATE) or ""


def error_code(form: Form) -> str | None:
    return optional(form, "ErrorCode", WHOLE_NUMBER)


@dataclass(frozen=True)
class CallParties:
    """Who called whom, as sent. Twilio sends each twice (Caller is From, Called is To):
    where both are sent they must agree, so neither can hide a fold."""

    from_: str
    to: str
    outbound: bool


def call_parties(form: Form) -> CallParties:
    parties = {}
    for name, twin in (("From", "Caller"), ("To", "Called")):
        value = _one(form, name)
        repeated = _one(form, twin)
        if value is not None and repeated is not None and value != repeated:
            raise MalformedField(f"{twin} must equal {name}")
        parties[name] = value if value is not None else (repeated or "")
    direction = state(form, "Direction") or "inbound"
    return CallParties(parties["From"], parties["To"], direction.startswith("outbound"))


def keys(form: Form) -> str:
    """The keys a Gather (or a Record's finish) reports; "" for none."""
    return optional(form, "Digits", KEYS) or ""


@dataclass(frozen=True)
class Recording:
    url: str | None  # None: nothing was recorded
    duration: int  # seconds, at most `limit`


def recording(form: Form, limit: int) -> Recording:
    """A Record action's RecordingUrl, RecordingSid and RecordingDuration: each in its shape,
    the URL naming the recording and account the request names."""
    url = _match(form, "RecordingUrl", RECORDING_URL)
    recording_sid = optional(form, "RecordingSid", RECORDING_SID)
    if url is not None:
        if recording_sid is not None and url["recording"] != recording_sid:
            raise MalformedField("RecordingUrl must name the recording RecordingSid names")
        account = optional(form, "AccountSid", ACCOUNT_SID)
        if account is not None and url["account"] != account:
            raise MalformedField("RecordingUrl must name the account AccountSid names")
    raw = optional(form, "RecordingDuration", WHOLE_NUMBER) or "0"
    digits = raw.lstrip("0") or "0"
    duration = limit if len(digits) > MAX_DURATION_DIGITS else min(int(digits), limit)
    return Recording(url[0] if url is not None else None, duration)
