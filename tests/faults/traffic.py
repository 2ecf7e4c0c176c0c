"""Participants texting and calling a gateway over HTTP, as Twilio would deliver them.

Every request is signed exactly as Twilio signs it. Each answer is classified:

- accepted: 200 with a TwiML document that parses and says what comes next (the next
  question's prompt, or for a call the next action URL), or 204 for a status callback;
- retryable: a connection error, a timeout or a 5xx. The same request (same MessageSid,
  same CallSid and action URL) is sent again, as Twilio retries, until accepted;
- bad: anything else (a 4xx, a 200 with a broken or unexpected body). Never expected.

What the participants were told was recorded is kept as a tally of
(channel, question, value), to compare with the gateway's and the centre's stores.
"""

from __future__ import annotations

import itertools
import threading
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import requests
from twilio.request_validator import RequestValidator

PRIORITIES = ["water", "roads", "clinics", "schools"]
AGE_BANDS = ["under_18", "18_34", "35_59", "60_plus"]
LINE = "+254700000001"  # the fixture consultation's voice number
ACCOUNT = "AC" + "0" * 32
RETRY_FOR = 60.0  # seconds one request is retried before the participant gives up
RETRY_PAUSE = 0.1
TIMEOUT = (2.0, 15.0)  # Twilio connects within 5 s and reads within 15 s
SMS_PROMPTS = [  # what the reply to each SMS of a participant must contain
    "What should the county fix first?",
    "Do you have enough water at home?",
    "How satisfied are you with water services?",
    "Any other comment?",
    "Your age?",
    "Thank you for your voice.",
]
VOICE_TARGETS = ["_language", "priority", "enough", "satisfaction", "comment", "age_band"]


class Rejected(Exception):
    """A request got an answer that is neither valid nor retryable."""


class GaveUp(Exception):
    """A request stayed unanswered for RETRY_FOR seconds."""


@dataclass(frozen=True)
class Attempt:
    at: float  # time.monotonic()
    kind: str  # sms | voice | status
    key: str  # MessageSid, or CallSid and action
    outcome: str  # accepted | retryable | bad
    detail: str


@dataclass
class Traffic:
    base_url: str
    auth_token: str
    sms_threads: int = 2
    voice_threads: int = 1
    pause: float = 0.005  # between one participant's requests
    attempts: list[Attempt] = field(default_factory=list)
    expected: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    completed: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _numbers: itertools.count = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        self.validator = RequestValidator(self.auth_token)

    # --- running -------------------------------------------------------------------------

    def start(self) -> None:
        loops: list[Callable[[], None]] = [self._sms_loop] * self.sms_threads
        loops += [self._voice_loop] * self.voice_threads
        for index, loop in enumerate(loops):
            thread = threading.Thread(target=loop, name=f"traffic-{index}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def stop(self, timeout: float = 2 * RETRY_FOR) -> None:
        """Let each participant finish the conversation in progress, then stop."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(deadline - time.monotonic(), 0.1))
        alive = [t.name for t in self._threads if t.is_alive()]
        assert not alive, f"traffic threads still running after {timeout:g} s: {alive}"

    def _next_number(self) -> int:
        with self._lock:
            return next(self._numbers)

    def _sms_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._texting(self._next_number())
            except (Rejected, GaveUp) as exc:
                self._fail(f"sms: {exc}")
                return

    def _voice_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._calling(self._next_number())
            except (Rejected, GaveUp) as exc:
                self._fail(f"voice: {exc}")
                return

    def _fail(self, message: str) -> None:
        with self._lock:
            self.failures.append(message)

    # --- counting ----------------------------------------------------------------------------

    def counts(self, since: float = 0.0, until: float = float("inf")) -> Counter[str]:
        with self._lock:
            return Counter(a.outcome for a in self.attempts if since <= a.at <= until)

    def accepted_answers(self) -> int:
        with self._lock:
            return sum(self.expected.values())

    def _record(self, kind: str, key: str, outcome: str, detail: str) -> None:
        with self._lock:
            self.attempts.append(Attempt(time.monotonic(), kind, key, outcome, detail))

    def _accept(self, channel: str, question: str, value: str) -> None:
        with self._lock:
            self.expected[(channel, question, value)] += 1

    # --- one request, retried like Twilio ------------------------------------------------------

    def _deliver(self, kind: str, key: str, path: str, params: dict[str, str],
                 expect_status: int = 200) -> requests.Response:
        url = self.base_url + path
        headers = {"X-Twilio-Signature": self.validator.compute_signature(url, params)}
        deadline = time.monotonic() + RETRY_FOR
        while True:
            try:
                response = requests.post(url, data=params, headers=headers, timeout=TIMEOUT,
                                         allow_redirects=False)
            except requests.RequestException as exc:
                self._record(kind, key, "retryable", exc.__class__.__name__)
            else:
                if response.status_code >= 500:
                    self._record(kind, key, "retryable", f"HTTP {response.status_code}")
                elif response.status_code != expect_status:
                    self._record(kind, key, "bad", f"HTTP {response.status_code}")
                    raise Rejected(f"{key}: HTTP {response.status_code}: {response.text[:300]}")
                else:
                    return response
            if time.monotonic() > deadline:
                raise GaveUp(f"{key}: no answer in {RETRY_FOR:g} s")
            time.sleep(RETRY_PAUSE)

    def _twiml(self, kind: str, key: str, response: requests.Response) -> ET.Element:
        content_type = response.headers.get("Content-Type", "")
        try:
            if not content_type.startswith("text/xml"):
                raise ValueError(f"Content-Type {content_type!r}")
            root = ET.fromstring(response.content)
            if root.tag != "Response":
                raise ValueError(f"root element {root.tag!r}")
        except (ET.ParseError, ValueError) as exc:
            self._record(kind, key, "bad", f"200 with a broken body: {exc}")
            raise Rejected(f"{key}: 200 with a broken body ({exc}): {response.text[:300]}") \
                from exc
        return root

    # --- SMS -------------------------------------------------------------------------------

    def _texting(self, n: int) -> None:
        number = f"+25471{n:07d}"
        priority, enough, satisfaction, age = n % 4, n % 3 != 0, n % 5 + 1, n % 4
        comment = f"Borehole {n % 7} is dry"
        script = [
            ("WATER", None),
            (str(priority + 1), ("priority", PRIORITIES[priority])),
            ("yes" if enough else "no", ("enough", "yes" if enough else "no")),
            (str(satisfaction), ("satisfaction", str(satisfaction))),
            (comment, ("comment", comment)),
            (str(age + 1), ("age_band", AGE_BANDS[age])),
        ]
        for index, (body, answer) in enumerate(script):
            sid = f"SM{n:08d}{index:02d}{'0' * 22}"
            params = {"MessageSid": sid, "SmsSid": sid, "AccountSid": ACCOUNT, "From": number,
                      "To": LINE, "Body": body, "NumSegments": "1", "NumMedia": "0"}
            response = self._deliver("sms", sid, "/twilio/sms", params)
            root = self._twiml("sms", sid, response)
            texts = [m.text or "" for m in root.iter("Message")]
            if len(texts) != 1 or SMS_PROMPTS[index] not in texts[0]:
                self._record("sms", sid, "bad", f"unexpected reply {texts!r}")
                raise Rejected(f"{sid} ({body!r}): expected {SMS_PROMPTS[index]!r}, "
                               f"got {texts!r}")
            self._record("sms", sid, "accepted", "200")
            if answer is not None:
                self._accept("sms", *answer)
            time.sleep(self.pause)
        with self._lock:
            self.completed["sms"] += 1

    # --- voice -----------------------------------------------------------------------------

    def _calling(self, n: int) -> None:
        caller = f"+25472{n:07d}"
        call_sid = f"CA{n:08d}{'0' * 24}"
        base = {"CallSid": call_sid, "AccountSid": ACCOUNT, "From": caller, "To": LINE,
                "Called": LINE, "Caller": caller, "Direction": "inbound",
                "ApiVersion": "2010-04-01"}
        priority, enough, satisfaction, age = n % 4, n % 2, n % 5 + 1, n % 4
        recording = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/RE{n:032d}"
        root = self._call_step(call_sid, "/twilio/voice", {**base, "CallStatus": "ringing"}, 0)
        presses: list[tuple[dict[str, str], tuple[str, str] | None]] = [
            ({"Digits": "1"}, None),  # English
            ({"Digits": str(priority + 1)}, ("priority", PRIORITIES[priority])),
            ({"Digits": str(enough + 1)}, ("enough", ["yes", "no"][enough])),
            ({"Digits": str(satisfaction)}, ("satisfaction", str(satisfaction))),
            ({"RecordingUrl": recording, "RecordingDuration": "7", "Digits": "#"},
             ("comment", recording)),
            ({"Digits": str(age + 1)}, ("age_band", AGE_BANDS[age])),
        ]
        for step, (given, answer) in enumerate(presses, start=1):
            verb = root.find("Record") if "RecordingUrl" in given else root.find("Gather")
            if verb is None or not verb.get("action"):
                raise Rejected(f"{call_sid} step {step}: nothing to answer in the TwiML")
            params = {**base, "CallStatus": "in-progress", **given}
            root = self._call_step(call_sid, verb.get("action", ""), params, step)
            if answer is not None:
                self._accept("voice", *answer)
            time.sleep(self.pause)
        status = {**base, "CallStatus": "completed", "CallDuration": "42"}
        self._deliver("status", f"{call_sid} status", "/twilio/status", status, 204)
        self._record("status", f"{call_sid} status", "accepted", "204")
        with self._lock:
            self.completed["voice"] += 1

    def _call_step(self, call_sid: str, action: str, params: dict[str, str],
                   step: int) -> ET.Element:
        """One action webhook; its TwiML must lead to the next step (or hang up)."""
        parts = urlsplit(action)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        key = f"{call_sid} {path}"
        root = self._twiml("voice", key, self._deliver("voice", key, path, params))
        if step < len(VOICE_TARGETS):  # a question (or the language menu) comes next
            gather = root.find("Gather")
            query = parse_qs(urlsplit(gather.get("action", "")).query) if gather is not None \
                else {}
            want = {"n": [str(step + 1)], "q": [VOICE_TARGETS[step]]}
            if query != want:
                self._record("voice", key, "bad", f"unexpected next step {query}")
                raise Rejected(f"{key}: expected a Gather for {want}, got {query}: "
                               f"{ET.tostring(root)[:400]!r}")
        elif [verb.tag for verb in root][-1:] != ["Hangup"] or "Thank you for your voice." \
                not in "".join(root.itertext()):
            self._record("voice", key, "bad", "the call did not end with thanks")
            raise Rejected(f"{key}: expected thanks and a hang-up: {ET.tostring(root)[:400]!r}")
        self._record("voice", key, "accepted", "200")
        return root
