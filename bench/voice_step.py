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
import os
import platform
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

if __package__ in (None, ""):  # run as a script: make `bench` and `gateway` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from redis import Redis  # noqa: E402

from bench import _client, _traffic, _wrk  # noqa: E402
from bench._servers import BENCH_TOKEN, REPO, Server, WorkerSettings, gateway_env  # noqa: E402
from bench._voice_caller import Caller, CallRunner  # noqa: E402
from bench._voice_report import Row, print_report  # noqa: E402
from bench._voice_signing import VOICE_PATH, Signer, call_params  # noqa: E402
from bench._voice_tally import Tally  # noqa: E402
from bench.sms_webhook import BASELINE_APP, GATEWAY_APP, Meter, progress  # noqa: E402
from gateway.consultation.catalogue import load_catalog  # noqa: E402
from gateway.consultation.model import Status  # noqa: E402


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


def main(argv: Sequence[str] | None = None) -> int:
    return run(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())

