"""Realistic inbound SMS traffic for the webhook benchmark, signed exactly as Twilio signs it.

Many distinct participants each text a consultation keyword, then answer its questions one
by one (choices by number, letter or label, yes/no words, scale numbers, free comments), with
some invalid replies, HELP, SKIP, LANG, STOP, a closed keyword and the odd Twilio retry
(same MessageSid), so the gateway does the work it does in the field.

Conversations are interleaved round-robin over a window of active participants: two
messages of one participant are always `window` positions apart in the stream, so at any
concurrency below `window` they reach the gateway in order, as a person's replies do.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from gateway.consultation.catalogue import load_catalog
from gateway.consultation.model import Consultation, Question, QuestionType, Status

ACCOUNT_SID = "AC" + "5" * 32
MESSAGING_SERVICE_SID = "MG" + "7" * 32
TO_NUMBER = "+254700000001"
SMS_PATH = "/twilio/sms"

# Share of replies per kind (per question asked, or per conversation for STOP / LANG).
P_INVALID = 0.12  # one invalid reply before the valid answer
P_HELP = 0.02
P_SKIP = 0.25  # of optional questions
P_STOP = 0.02  # stops mid-way
P_LANG = 0.10  # switches language right after the keyword
P_CLOSED = 0.02  # texts the keyword of a closed consultation first
P_RETRY = 0.005  # Twilio re-posts a message (same MessageSid) after a timeout

COMMENTS = (
    "The kiosk near the school is broken since March",
    "Water comes only at night, please fix",
    "Bei ya maji ni ghali sana",
    "Thanks for asking us",
    "Pipes leak on the main road and nobody comes",
    "Tunahitaji maji safi kijijini",
    "Meter readings are wrong every month",
    "ok",
)
YES_NO = {
    "en": (("yes", "Yes", "Y", "ok"), ("no", "No", "N", "nope")),
    "sw": (("ndio", "Ndiyo", "sawa"), ("hapana", "Hapana", "la")),
}
LANG_COMMANDS = {"en": ("LANG en", "LANG english"), "sw": ("LANG sw", "LUGHA kiswahili")}
PHONE_PREFIXES = ("+2547", "+2547", "+2547", "+2541", "+2557")  # mostly Kenyan mobiles


@dataclass(frozen=True)
class Sms:
    sid: str
    sender: str
    body: str


@dataclass(frozen=True)
class Signed:
    """One webhook ready to send: the X-Twilio-Signature value and the form body."""

    sms: Sms
    signature: str
    body: bytes


def open_consultations(flows_dir: Path, now: datetime | None = None) -> list[Consultation]:
    catalog = load_catalog([flows_dir])
    now = now or datetime.now(UTC)
    return [c for c in catalog.consultations if c.status(now) is Status.OPEN]


def closed_keywords(flows_dir: Path, now: datetime | None = None) -> list[str]:
    catalog = load_catalog([flows_dir])
    now = now or datetime.now(UTC)
    return [c.keywords[0] for c in catalog.consultations if c.status(now) is Status.CLOSED]


class _Participant:
    """One person's messages, produced lazily as the conversation goes."""

    def __init__(self, rng: random.Random, number: str, consultation: Consultation,
                 closed: Sequence[str]) -> None:
        self.number = number
        self._messages = _script(rng, consultation, closed)

    def next_body(self) -> str | None:
        return next(self._messages, None)


def _script(rng: random.Random, c: Consultation, closed: Sequence[str]) -> Iterator[str]:
    if closed and rng.random() < P_CLOSED:
        yield rng.choice(closed)
    keyword = rng.choice(c.keywords)
    yield rng.choice((keyword, keyword.lower(), keyword.capitalize()))
    language = c.default_language
    if len(c.languages) > 1 and rng.random() < P_LANG:
        language = rng.choice(c.languages[1:])
        yield rng.choice(LANG_COMMANDS.get(language, (f"LANG {language}",)))
    stop_at = rng.randrange(len(c.steps)) if rng.random() < P_STOP else -1
    for index, question in enumerate(c.steps):
        if index == stop_at:
            yield rng.choice(("STOP", "stop", "Stop"))
            return
        if rng.random() < P_HELP:
            yield "HELP"
        if question.skippable and rng.random() < P_SKIP:
            yield "SKIP"
            continue
        if question.type is not QuestionType.TEXT and rng.random() < P_INVALID:
            yield _invalid_answer(rng, question)
        yield _valid_answer(rng, question, language)


def _valid_answer(rng: random.Random, q: Question, language: str) -> str:
    if q.type is QuestionType.CHOICE:
        index = rng.randrange(len(q.options))
        option = q.options[index]
        roll = rng.random()
        aliases = option.aliases.get(language, ())
        if roll < 0.55:
            return str(index + 1)
        if roll < 0.65:
            return "abcdefghi"[index]
        if roll < 0.85 or not aliases:
            return option.label.get(language) or option.label[next(iter(option.label))]
        return rng.choice(aliases)
    if q.type is QuestionType.YES_NO:
        yes, no = YES_NO.get(language, YES_NO["en"])
        return rng.choice(yes if rng.random() < 0.6 else no)
    if q.type is QuestionType.SCALE:
        low, high = q.min or 1, q.max or 5
        value = rng.randint(low, high)
        return f"{value} out of {high}" if rng.random() < 0.1 else str(value)
    return rng.choice(COMMENTS)


def _invalid_answer(rng: random.Random, q: Question) -> str:
    if q.type is QuestionType.CHOICE:
        return rng.choice((str(len(q.options) + 1), "not sure", "?"))
    if q.type is QuestionType.YES_NO:
        return rng.choice(("maybe", "sometimes", "3"))
    high = q.max or 5
    return rng.choice((str(high + 2), "very", "0"))


def _numbers(rng: random.Random) -> Iterator[str]:
    seen: set[str] = set()
    while True:
        number = rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        if number not in seen:
            seen.add(number)
            yield number


def conversation_stream(
    count: int,
    consultations: Sequence[Consultation],
    *,
    seed: int,
    window: int = 256,
    closed: Sequence[str] = (),
) -> list[Sms]:
    """`count` inbound messages from many participants, interleaved `window` apart."""
    if not consultations:
        raise ValueError("no open consultation in the flows directory: nothing to answer")
    rng = random.Random(seed)
    numbers = _numbers(rng)

    def newcomer() -> _Participant:
        return _Participant(rng, next(numbers), rng.choice(consultations), closed)

    slots = [newcomer() for _ in range(window)]
    out: list[Sms] = []
    while len(out) < count:
        for i in range(window):
            body = slots[i].next_body()
            while body is None:  # finished (or stopped): a new participant takes the slot
                slots[i] = newcomer()
                body = slots[i].next_body()
            if len(out) > window and rng.random() < P_RETRY:
                # A retry of a message sent `window` earlier: same MessageSid and body.
                out.append(out[-window])
            out.append(Sms(f"SM{rng.getrandbits(128):032x}", slots[i].number, body))
            if len(out) >= count:
                break
    return out[:count]


def twilio_params(sms: Sms) -> dict[str, str]:
    """The form fields of Twilio's incoming-message webhook, in the order Twilio sends them."""
    return {
        "ToCountry": "KE",
        "ToState": "",
        "SmsMessageSid": sms.sid,
        "NumMedia": "0",
        "ToCity": "",
        "FromZip": "",
        "SmsSid": sms.sid,
        "FromState": "",
        "SmsStatus": "received",
        "FromCity": "",
        "Body": sms.body,
        "FromCountry": "TZ" if sms.sender.startswith("+255") else "KE",
        "To": TO_NUMBER,
        "MessagingServiceSid": MESSAGING_SERVICE_SID,
        "ToZip": "",
        "NumSegments": "1",
        "ReferralNumMedia": "0",
        "MessageSid": sms.sid,
        "AccountSid": ACCOUNT_SID,
        "From": sms.sender,
        "ApiVersion": "2010-04-01",
    }


def sign_all(messages: Sequence[Sms], url: str, token: str) -> list[Signed]:
    """Each message as Twilio would post it to `url` (the full URL it calls)."""
    validator = RequestValidator(token)
    signed = []
    for sms in messages:
        params = twilio_params(sms)
        signature = validator.compute_signature(url, params)
        signed.append(Signed(sms, signature, urlencode(params).encode("ascii")))
    return signed


def raw_request(item: Signed, host: str, path: str = SMS_PATH) -> bytes:
    """The HTTP/1.1 request bytes Twilio's webhook client would send."""
    head = (
        f"POST {path} HTTP/1.1\r\n"
        f"Host: {host}\r\n"
        "User-Agent: TwilioProxy/1.1\r\n"
        "Accept: */*\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"X-Twilio-Signature: {item.signature}\r\n"
        f"I-Twilio-Idempotency-Token: {item.sms.sid}\r\n"
        f"Content-Length: {len(item.body)}\r\n"
        "\r\n"
    )
    return head.encode("ascii") + item.body
