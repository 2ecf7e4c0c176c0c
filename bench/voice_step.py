"""Load test of the voice line under gunicorn: calls that follow the TwiML they get back.

    .venv/bin/python -m bench.voice_step [--concurrency 32] [--requests 20000]
        [--duration 20] [--synchronous FULL,NORMAL]

Starts gunicorn (the SMS bench's settings: 2 sync workers, timeouts and keep-alive of
config/gunicorn.conf.py, access log off, max_requests off) for
  * the baseline, bench/baseline_app.py: SDK signature check + one constant TwiML question
    step (a <Gather> whose action is /twilio/voice/step, then a <Redirect>), and
  * the gateway, gateway.app:create_app() on a fresh SQLite file in a temp dir, the
    consultations of --flows (tests/fixtures/flows: water.yaml has the voice line),
    Redis DB 12 (flushed) so the real sync trigger runs, once per SQLITE_SYNCHRONOUS value,
then runs the baseline once more at the end, to see how much the shared machine drifted.

Each of --concurrency caller threads places calls back to back (closed loop, no think time).
A call is what Twilio would post: POST /twilio/voice (call start), then for each TwiML
answer the caller reads the XML and acts on it as a person and Twilio would: a key press
posted to the <Gather action> URL (language menu, answers, `*` to repeat, an invalid key,
`0` to skip), a silence (the <Redirect> URL, no Digits), a comment recorded (the <Record
action>, with RecordingUrl), an empty recording (the <Redirect> after the <Record>), the odd
Twilio retry of the same request, and a few callers hang up mid-way. A call ends at
<Hangup>. Every request is signed as Twilio signs it (RequestValidator.compute_signature over
the full URL, query included, and every form field). The baseline never hangs up, so its
calls are cut after --baseline-call-requests requests.

Prints req/s and p50/p99/max latency (all requests, and call starts and steps apart), CPU
used by gunicorn and by the load generator, the server CPU per request (the figure least
skewed by other load on the machine), and gateway/baseline ratios; then what the gateway
stored (calls, events by status) and checks: every retried request got the same TwiML, and
every step's action URL moved on (n grew) unless it was a retry.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import platform
import random
import sqlite3
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

if __package__ in (None, ""):  # run as a script: make `bench` and `gateway` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from redis import Redis  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from bench import _client, _traffic, _wrk  # noqa: E402
from bench._servers import BENCH_TOKEN, REPO, Server, WorkerSettings, gateway_env  # noqa: E402
from bench.sms_webhook import BASELINE_APP, GATEWAY_APP, Meter, progress  # noqa: E402
from gateway.consultation.catalogue import load_catalog  # noqa: E402
from gateway.consultation.model import Question, QuestionType, Status  # noqa: E402

VOICE_PATH = "/twilio/voice"
STEP_PATH = "/twilio/voice/step"
OTHER_LINE = "+254700000099"  # a number no consultation has: the consultation menu
ACCOUNT_SID = _traffic.ACCOUNT_SID
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


def call_params(sid: str, caller: str, called: str) -> dict[str, str]:
    """The form fields of Twilio's voice webhook for an inbound call."""
    return {
        "AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", "CallSid": sid,
        "CallStatus": "in-progress", "Called": called, "CalledCountry": "KE",
        "Caller": caller, "CallerCountry": "KE", "Direction": "inbound", "From": caller,
        "FromCountry": "KE", "To": called, "ToCountry": "KE",
    }


class Signer:
    """Raw HTTP/1.1 requests signed for one server (its full URL, as Twilio calls it)."""

    def __init__(self, host: str, token: str) -> None:
        self.host = host
        self.base = f"http://{host}"
        self.validator = RequestValidator(token)

    def request(self, url: str, params: dict[str, str]) -> bytes:
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        signature = self.validator.compute_signature(self.base + target, params)
        body = urlencode(params).encode("ascii")
        head = (
            f"POST {target} HTTP/1.1\r\n"
            f"Host: {self.host}\r\n"
            "User-Agent: TwilioProxy/1.1\r\n"
            "Accept: */*\r\n"
            "Content-Type: application/x-www-form-urlencoded; charset=utf-8\r\n"
            f"X-Twilio-Signature: {signature}\r\n"
            f"I-Twilio-Idempotency-Token: {params['CallSid']}-{len(body)}\r\n"
            f"Content-Length: {len(body)}\r\n"
            "\r\n"
        )
        return head.encode("ascii") + body


# --- running calls ----------------------------------------------------------------------


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


# --- reporting --------------------------------------------------------------------------


@dataclass
class Row:
    name: str
    tally: Tally
    seconds: float
    server_cores: float = 0.0
    client_cores: float = 0.0
    tool: str = "python"
    wrk: _wrk.WrkResult | None = None  # set when wrk was the load generator

    @property
    def completed(self) -> int:
        return self.tally.completed

    @property
    def rate(self) -> float:
        return self.completed / self.seconds if self.seconds > 0 else 0.0

    @property
    def lost(self) -> int:
        return sum(self.tally.errors.values())

    def pct(self, pct: float, kind: str | None = None) -> float:
        if kind is None:
            values = [v for vs in self.tally.latencies.values() for v in vs]
            return _client.percentile(values, pct, self.lost) * 1000
        return _client.percentile(self.tally.latencies.get(kind, []), pct) * 1000

    @property
    def max_ms(self) -> float:
        values = [v for vs in self.tally.latencies.values() for v in vs]
        return math.inf if self.lost else max(values, default=0.0) * 1000

    @property
    def cpu_ms_per_request(self) -> float:
        return self.server_cores * 1000 / self.rate if self.rate else 0.0

    @property
    def non_2xx(self) -> int:
        return sum(n for code, n in self.tally.statuses.items() if not 200 <= code < 300)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.voice_step",
        description="Signed Twilio voice calls, following their TwiML, against the gateway "
                    "and a baseline.",
    )
    parser.add_argument("--concurrency", type=int, default=32,
                        help="callers at once, each placing calls back to back (default 32)")
    parser.add_argument("--requests", type=int, default=20_000,
                        help="requests per app (default 20000)")
    parser.add_argument("--duration", type=float, default=20.0,
                        help="upper bound in seconds per app (default 20)")
    parser.add_argument("--warmup", type=int, default=300,
                        help="requests (whole calls) before each measurement (default 300)")
    parser.add_argument("--baseline-call-requests", type=int, default=8,
                        help="the baseline never hangs up: cut its calls after this many "
                             "requests (default 8)")
    parser.add_argument("--synchronous", default="FULL,NORMAL",
                        help="SQLITE_SYNCHRONOUS values to run the gateway with")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="sync", choices=("sync", "gthread"))
    parser.add_argument("--threads", type=int, default=1, help="gthread threads per worker")
    parser.add_argument("--wrk-seconds", type=int, default=5,
                        help="wrk against the baseline for reference, seconds (0: skip)")
    parser.add_argument("--flows", type=Path, default=REPO / "tests" / "fixtures" / "flows",
                        help="FLOWS_DIR for the gateway (default test fixtures)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12",
                        help="Redis DB for the gateway's sync trigger; flushed (default DB 12)")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    args.synchronous = [s.strip().upper() for s in args.synchronous.split(",") if s.strip()]
    for value in args.synchronous:
        if value not in {"FULL", "NORMAL", "EXTRA"}:
            parser.error(f"--synchronous: {value!r} is not FULL, NORMAL or EXTRA")
    if min(args.concurrency, args.requests, args.baseline_call_requests) < 1:
        parser.error("counts must be positive")
    if args.duration <= 0 or args.warmup < 0 or args.wrk_seconds < 0:
        parser.error("durations must be positive")
    return args


def check_forgery_refused(label: str, server: Server, line: str) -> None:
    """A call start whose form was altered after signing must get 403: checks are on."""
    signer = Signer(server.host, BENCH_TOKEN)
    params = call_params("CA" + "f" * 32, "+254711000000", line)
    raw = signer.request(VOICE_PATH, params).replace(b"CallStatus=in-progress",
                                                     b"CallStatus=in-progresx", 1)
    conn = _client.Connection(server.port, timeout=15.0)
    try:
        status, _ = conn.exchange(raw)
    finally:
        conn.close()
    if status != 403:
        raise RuntimeError(f"{label}: a forged voice webhook got HTTP {status}, not 403")


def measure(args: argparse.Namespace, label: str, server: Server, caller: Caller, line: str,
            numbers: Iterator[int], *, baseline: bool) -> Row:
    runner = CallRunner(server, caller, line, numbers=numbers,
                        cut_after=args.baseline_call_requests if baseline else None,
                        check_steps=not baseline, seed=args.seed)
    progress(f"{label}: warm-up, forged-signature check, then the calls")
    if args.warmup:
        runner.run(connections=8, requests=args.warmup, duration=30.0)
    check_forgery_refused(label, server, line)
    with Meter(server) as meter:
        tally, seconds = runner.run(connections=args.concurrency, requests=args.requests,
                                    duration=args.duration)
    return Row(label, tally, seconds, meter.server_cores, meter.client_cores)


def wrk_reference(args: argparse.Namespace, server: Server, workdir: Path, line: str,
                  seed: int) -> Row | None:
    """The baseline's constant TwiML always points to the same step: wrk can replay it."""
    if not args.wrk_seconds or _wrk.available() is None:
        return None
    rng = random.Random(seed)
    signer = Signer(server.host, BENCH_TOKEN)
    url = server.url("/twilio/voice/step?n=1&q=priority")
    items = []
    for n in range(100_000):
        params = {**call_params(f"CA{rng.getrandbits(128):032x}", f"+2547{n:08d}", line),
                  "Digits": str(1 + n % 4), "FinishedOnKey": "", "msg": "Gather End"}
        signature = signer.validator.compute_signature(url, params)
        items.append(_traffic.Signed(_traffic.Sms(params["CallSid"], params["From"], ""),
                                     signature, urlencode(params).encode("ascii")))
    with Meter(server) as meter:
        result = _wrk.run(workdir, "baseline-voice", server.host, items,
                          connections=args.concurrency, threads=1,
                          max_seconds=args.wrk_seconds, path="/twilio/voice/step?n=1&q=priority")
    tally = Tally()
    tally.statuses = result.statuses
    return Row("baseline (wrk)", tally, result.seconds, meter.server_cores, meter.client_cores,
               tool="wrk", wrk=result)


def store_summary(database: Path) -> str:
    with sqlite3.connect(database) as conn:
        calls = dict(conn.execute("SELECT status, count(*) FROM calls GROUP BY status"))
        events = dict(conn.execute("SELECT status, count(*) FROM events GROUP BY status"))
        channels = dict(conn.execute("SELECT channel, count(*) FROM events GROUP BY channel"))
        inbound = conn.execute("SELECT count(*) FROM inbound").fetchone()[0]
    conn.close()
    fmt = lambda d: ", ".join(f"{k} {v}" for k, v in sorted(d.items())) or "none"  # noqa: E731
    return (f"calls: {fmt(calls)}; events: {fmt(events)} (channel {fmt(channels)}); "
            f"{inbound} inbound log rows")


def run(args: argparse.Namespace) -> int:
    settings = WorkerSettings(args.workers, args.worker_class, args.threads)
    catalog = load_catalog([args.flows])
    now = datetime.now(UTC)
    voiced = [c for c in catalog.consultations if c.status(now) is Status.OPEN and c.voice.numbers]
    if not voiced:
        raise SystemExit(f"no open consultation with a voice number in {args.flows}")
    line = voiced[0].voice.numbers[0]
    questions = {q.id: q for c in catalog.consultations for q in c.steps}
    caller = Caller(questions, len(voiced[0].languages))
    redis = Redis.from_url(args.redis_url, socket_connect_timeout=2)
    redis.ping()
    numbers = itertools.count(1)

    load_before = os.getloadavg()
    started = time.monotonic()
    rows: list[Row] = []
    wrk_row: Row | None = None
    stores: list[tuple[str, str]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="civicline-voice-bench-") as tmp:
            workdir = Path(tmp)
            env = {"TWILIO_AUTH_TOKEN": BENCH_TOKEN}
            with Server("baseline", BASELINE_APP, workdir, settings, env) as server:
                rows.append(measure(args, "baseline", server, caller, line, numbers,
                                    baseline=True))
                progress("baseline: wrk reference")
                wrk_row = wrk_reference(args, server, workdir, line, args.seed)
            for synchronous in args.synchronous:
                name = f"gateway {synchronous}"
                server_name = f"gateway-{synchronous.lower()}"
                redis.flushdb()
                genv = gateway_env(workdir, server_name, args.flows, args.redis_url,
                                   synchronous)
                with Server(server_name, GATEWAY_APP, workdir, settings, genv) as server:
                    rows.append(measure(args, name, server, caller, line, numbers,
                                        baseline=False))
                stores.append((name, store_summary(workdir / f"{server_name}.db")))
                redis.flushdb()
            with Server("baseline-again", BASELINE_APP, workdir, settings, env) as server:
                rows.append(measure(args, "baseline again", server, caller, line, numbers,
                                    baseline=True))
    finally:
        redis.flushdb()
        redis.close()
    load_after = os.getloadavg()
    print_report(args, settings, rows, wrk_row, stores)
    print(f"\nrun took {time.monotonic() - started:.0f} s; Python {platform.python_version()}; "
          f"load average (1 min) {load_before[0]:.2f} before, {load_after[0]:.2f} after, on "
          f"{os.cpu_count()} cores (other processes on the machine skew the figures)")
    failed = any(r.lost or r.non_2xx or r.tally.retries_differing or r.tally.not_advanced
                 for r in rows)
    return 1 if failed else 0


def print_report(args: argparse.Namespace, settings: WorkerSettings, rows: Sequence[Row],
                 wrk_row: Row | None, stores: Sequence[tuple[str, str]]) -> None:
    baselines = [r for r in rows if r.name.startswith("baseline")]
    base_rate = sum(r.rate for r in baselines) / len(baselines) if baselines else 0.0
    base_cpu = (sum(r.cpu_ms_per_request for r in baselines) / len(baselines)
                if baselines else 0.0)
    print(f"CivicLine voice step benchmark: {settings.describe()} for both apps "
          f"(timeouts/keepalive of config/gunicorn.conf.py, access log off, max_requests off)")
    print(f"calls: {args.concurrency} callers at once, closed loop, python client; each call "
          f"follows the TwiML it gets (Gather action / Redirect / Record action); "
          f"{args.requests} requests or {args.duration:g} s per app; {args.warmup} warm-up "
          f"requests first; flows {args.flows}")
    print("each app first answered 403 to a voice webhook altered after signing: checks are on")
    print()
    header = (f"{'app':<15} {'requests':>8} {'calls':>6} {'secs':>5} {'req/s':>6} "
              f"{'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'start p50/p99':>14} "
              f"{'step p50/p99':>13} {'non-2xx':>7} {'srv CPU':>7} {'gen CPU':>7} "
              f"{'CPU ms/req':>10} {'ratio':>5}")
    print(header)
    print("-" * len(header))
    for row in rows:
        t = row.tally
        calls = t.calls["ended by TwiML"] + t.calls["caller hung up"] + t.calls["cut (baseline)"]
        ratio = f"{row.rate / base_rate:.2f}" if base_rate and not row.name.startswith(
            "baseline") else "-"
        start = f"{row.pct(50, 'start'):.1f}/{row.pct(99, 'start'):.1f}"
        step = f"{row.pct(50, 'step'):.1f}/{row.pct(99, 'step'):.1f}"
        bad = " ".join(f"{c}x{n}" for c, n in sorted(t.statuses.items())
                       if not 200 <= c < 300) or "0"
        if row.lost:
            bad += f" err{row.lost}"
        print(f"{row.name:<15} {row.completed:>8} {calls:>6} {row.seconds:>5.1f} "
              f"{row.rate:>6.0f} {row.pct(50):>7.1f} {row.pct(99):>7.1f} {row.max_ms:>7.1f} "
              f"{start:>14} {step:>13} {bad:>7} {row.server_cores:>7.2f} "
              f"{row.client_cores:>7.2f} {row.cpu_ms_per_request:>10.2f} {ratio:>5}")
    print("ratio = gateway req/s / mean baseline req/s (baseline measured first and again "
          "last); CPU ms/req = gunicorn (master + workers) CPU per request answered")
    if len(baselines) == 2:
        first, last = baselines
        drift = (last.rate / first.rate - 1) * 100 if first.rate else 0.0
        print(f"baseline drift over the run: {first.rate:.0f} -> {last.rate:.0f} req/s "
              f"({drift:+.0f}%)")
    for row in rows:
        if row.name.startswith("gateway") and base_cpu:
            print(f"{row.name}: server CPU per request {row.cpu_ms_per_request:.2f} ms vs "
                  f"baseline {base_cpu:.2f} ms: {row.cpu_ms_per_request / base_cpu:.1f}x; "
                  f"req/s ratio {row.rate / base_rate:.2f}")
    if wrk_row is not None and wrk_row.wrk is not None:
        result = wrk_row.wrk
        print(f"reference, baseline step driven by wrk ({args.concurrency} connections, same "
              f"constant TwiML, {args.wrk_seconds} s): {result.rate:.0f} req/s, p50 "
              f"{result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, srv CPU "
              f"{wrk_row.server_cores:.2f}, gen CPU {wrk_row.client_cores:.2f}: the python "
              f"client (which signs every request and parses every answer) reached "
              f"{baselines[0].rate / result.rate * 100 if result.rate else 0:.0f}% of that "
              f"against the baseline")
    print()
    print("what the calls did:")
    for row in rows:
        t = row.tally
        per_call = t.requests_per_call
        mean = sum(per_call) / len(per_call) if per_call else 0.0
        print(f"  {row.name}: answers {dict(t.twiml.most_common())}; calls {dict(t.calls)}; "
              f"{mean:.1f} requests per call; retries {t.retries} "
              f"({t.retries_differing} answered differently); steps whose action URL did "
              f"not move on: {t.not_advanced if not row.name.startswith('baseline') else '-'}")
    for name, summary in stores:
        print(f"  {name} store after warm-up + run: {summary}")


def main(argv: Sequence[str] | None = None) -> int:
    return run(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())

