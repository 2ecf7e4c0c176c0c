"""The voice bench's simulated caller, and the runner that places its calls.

A call is what Twilio would post: POST /twilio/voice (call start), then for each TwiML answer
the caller reads the XML and acts on it as a person and Twilio would (key presses, silences,
recordings, the odd retry, a hang-up mid-way) until <Hangup>.
"""

from __future__ import annotations

import random
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from bench import _client
from bench._servers import BENCH_TOKEN, Server
from bench._voice_signing import ACCOUNT_SID, VOICE_PATH, Signer, call_params
from bench._voice_tally import Tally, twiml_kind
from gateway.consultation.model import Question, QuestionType

OTHER_LINE = "+254700000099"  # a number no consultation has: the consultation menu
RECORDING_BASE = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/"

# A caller's behaviour, per key press asked for (or per call for P_OTHER_LINE).
P_OTHER_LINE = 0.10
P_SILENCE = 0.05  # presses nothing before the Gather's timeout: Twilio follows <Redirect>
P_STAR = 0.04  # asks for the prompt again
P_INVALID = 0.08  # a key that is not an answer
P_SKIP = 0.25  # of skippable questions: 0
P_LANGUAGE_2 = 0.30  # chooses the second language
P_EARLY_KEY = 0.05  # comment: a key during the prompt goes straight to the beep
P_EMPTY_RECORDING = 0.10  # says nothing after the beep: Twilio skips the Record action
P_HANGUP = 0.02  # hangs up before answering (no more webhooks for this call)
P_RETRY = 0.005  # Twilio re-posts a request (same URL and form) after a timeout
MAX_REQUESTS_PER_CALL = 40  # a call still going after this many is counted as stuck
KEYS = "0123456789#"


# --- what a caller does -----------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """The next webhook of a call: where Twilio posts it and what it adds to the form."""

    url: str
    extra: dict[str, str] = field(default_factory=dict)


HANG_UP = Action("")  # the caller hangs up: the call posts nothing more


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def step_number(url: str) -> int | None:
    value = query_of(url).get("n", "")
    return int(value) if value.isdigit() else None


def valid_keys(question: Question | None) -> list[str]:
    if question is None:
        return ["1"]
    if question.type is QuestionType.CHOICE:
        return [str(k) for k in range(1, min(len(question.options), 9) + 1)]
    if question.type is QuestionType.YES_NO:
        return ["1", "2"]
    if question.type is QuestionType.SCALE:
        low = max(question.min if question.min is not None else 1, 1)
        high = min(question.max if question.max is not None else 9, 9)
        return [str(k) for k in range(low, high + 1)]
    return ["1"]


class Caller:
    """Decides each call's next webhook from the TwiML just received."""

    def __init__(self, questions: dict[str, Question], languages: int) -> None:
        self.questions = questions
        self.languages = max(languages, 1)

    def next_action(self, root: ET.Element, rng: random.Random) -> Action | None:
        """None when the TwiML ends the call (<Hangup>, <Reject>, or nothing to follow)."""
        verbs = [child.tag for child in root]
        if not verbs or verbs[-1] in ("Hangup", "Reject"):
            return None
        if rng.random() < P_HANGUP:
            return HANG_UP
        gather = root.find("Gather")
        record = root.find("Record")
        redirects = root.findall("Redirect")
        redirect = (redirects[-1].text or "") if redirects else ""
        if gather is not None and record is not None:  # a comment: prompt, then the beep
            target = query_of(gather.get("action", "")).get("q", "")
            question = self.questions.get(target)
            roll = rng.random()
            if question is not None and question.skippable and roll < P_SKIP:
                return self.press(gather, "0")
            if roll > 1 - P_EARLY_KEY:
                return self.press(gather, "5")
            return self.recording(record, redirect, rng)  # listened to the end: beep
        if gather is not None:
            if rng.random() < P_SILENCE:
                return Action(redirect)
            return self.press(gather, self.key(query_of(gather.get("action", "")).get("q", ""),
                                               rng))
        if record is not None:
            return self.recording(record, redirect, rng)
        return Action(redirect) if redirect else None

    def key(self, target: str, rng: random.Random) -> str:
        if target == "_consultation":
            return "1"
        if target == "_language":
            if rng.random() < P_INVALID / 2:
                return "9"
            return "2" if self.languages > 1 and rng.random() < P_LANGUAGE_2 else "1"
        question = self.questions.get(target)
        valid = valid_keys(question)
        roll = rng.random()
        if roll < P_STAR:
            return "*"
        if roll < P_STAR + P_INVALID:
            return rng.choice([k for k in KEYS if k not in valid and k != "0"])
        if question is not None and question.skippable and rng.random() < P_SKIP:
            return "0"
        return rng.choice(valid)

    @staticmethod
    def press(gather: ET.Element, key: str) -> Action:
        return Action(gather.get("action", ""), {"Digits": key, "FinishedOnKey": "",
                                                 "msg": "Gather End"})

    @staticmethod
    def recording(record: ET.Element, redirect: str, rng: random.Random) -> Action:
        if rng.random() < P_EMPTY_RECORDING:
            return Action(redirect)  # nothing recorded: Twilio skips the action
        sid = f"RE{rng.getrandbits(128):032x}"
        return Action(record.get("action", ""), {
            "RecordingUrl": RECORDING_BASE + sid, "RecordingSid": sid,
            "RecordingDuration": str(rng.randint(2, 60)), "Digits": "#",
        })


# --- running calls ----------------------------------------------------------------------


class CallRunner:
    """Places calls against one server until a request budget or a deadline runs out."""

    def __init__(self, server: Server, caller: Caller, line: str, *, numbers: Iterator[int],
                 cut_after: int | None, check_steps: bool, seed: int) -> None:
        self.port = server.port
        self.signer = Signer(server.host, BENCH_TOKEN)
        self.caller = caller
        self.line = line
        self.numbers = numbers  # itertools.count: next() is atomic in CPython
        self.cut_after = cut_after  # baseline: its constant TwiML never hangs up
        self.check_steps = check_steps
        self.seed = seed

    def run(self, *, connections: int, requests: int, duration: float) -> tuple[Tally, float]:
        dispenser = _client._Dispenser(requests)
        parts: list[Tally] = []
        started = time.perf_counter()
        stop_at = started + duration

        def worker(index: int) -> None:
            tally = Tally()
            rng = random.Random(self.seed * 1000 + index)
            conn = _client.Connection(self.port, timeout=15.0)
            try:
                while time.perf_counter() < stop_at:
                    if not self.call(conn, rng, dispenser, stop_at, tally):
                        break
            finally:
                conn.close()
                parts.append(tally)

        threads = [threading.Thread(target=worker, args=(i,), daemon=True)
                   for i in range(connections)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        total = Tally()
        for part in parts:
            total.merge(part)
        return total, elapsed

    def call(self, conn: _client.Connection, rng: random.Random,
             dispenser: _client._Dispenser, stop_at: float, tally: Tally) -> bool:
        """One call, start to end; False when the budget or the time ran out mid-way."""
        number = f"+2547{next(self.numbers) % 10**8:08d}"
        called = OTHER_LINE if rng.random() < P_OTHER_LINE else self.line
        base = call_params(f"CA{rng.getrandbits(128):032x}", number, called)
        action = Action(VOICE_PATH, {"CallStatus": "ringing"})
        kind = "start"
        last_n: int | None = None
        sent = 0
        while True:
            if sent >= MAX_REQUESTS_PER_CALL:
                tally.calls["stuck"] += 1
                break
            if self.cut_after is not None and sent >= self.cut_after:
                tally.calls["cut (baseline)"] += 1
                break
            retry = sent > 0 and rng.random() < P_RETRY
            repeats = 2 if retry else 1
            raw = self.signer.request(action.url, {**base, **action.extra})
            bodies: list[bytes] = []
            for _ in range(repeats):
                if time.perf_counter() >= stop_at or dispenser.take() is None:
                    tally.calls["cut (end of run)"] += 1
                    tally.requests_per_call.append(sent)
                    return False
                began = time.perf_counter()
                try:
                    status, body = conn.exchange(raw)
                except (OSError, _client._Closed, ValueError) as exc:
                    tally.errors[type(exc).__name__] += 1
                    conn.close()
                    tally.calls["error"] += 1
                    tally.requests_per_call.append(sent)
                    return True
                tally.latencies[kind].append(time.perf_counter() - began)
                tally.statuses[status] += 1
                sent += 1
                if status != 200:
                    tally.calls[f"HTTP {status}"] += 1
                    tally.requests_per_call.append(sent)
                    return True
                bodies.append(body)
            if retry:
                tally.retries += 1
                tally.retries_differing += bodies[0] != bodies[1]
            root = ET.fromstring(bodies[-1])
            tally.twiml[twiml_kind(root)] += 1
            following = self.caller.next_action(root, rng)
            if following is None:
                tally.calls["ended by TwiML"] += 1
                break
            if following is HANG_UP:
                tally.calls["caller hung up"] += 1
                break
            n = step_number(following.url)
            if self.check_steps and last_n is not None and (n is None or n <= last_n):
                tally.not_advanced += 1
            last_n = n
            action, kind = following, "step"
        tally.requests_per_call.append(sent)
        return True
