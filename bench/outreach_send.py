"""An outreach sent through a local stand-in for Twilio's REST API, with SMS webhooks arriving
meanwhile (issue 17's targets).

    .venv/bin/python -m bench.outreach_send [--recipients 100000] [--calls 2000]
        [--sms-per-second 100] [--calls-per-second 8] [--max-concurrent-calls 20]
        [--hold 2] [--webhook-rate 200] [--webhook-seconds 30]

Real processes on loopback: the Twilio stand-in (bench/_twilio_standin.py, a process of
its own), the gateway's web app under gunicorn (its centre embedded, CENTRAL_URL unset),
`civicline worker` (RQ, Redis DB 8 by default, flushed) and `civicline sync` (the sweep,
every --sync-interval s: it also picks up the outreach once started).
The gateway sends through the real twilio client to the stand-in (TWILIO_API_URL), at
SMS_PER_SECOND, CALLS_PER_SECOND and MAX_CONCURRENT_CALLS as given.

  1. `civicline contacts import` of --recipients numbers (list bench-sms) and --calls
     numbers (list bench-voice); signed SMS webhooks at --webhook-rate req/s, open loop,
     for --webhook-seconds: the baseline p99, before any outreach.
  2. SMS: an invitation to bench-sms (`civicline outreach create ... --audience contacts`,
     then `start`); the same webhook load --settle s after its first message; then the
     wait until the stand-in has accepted every message. Achieved rate: acceptances per
     second from --settle s after the first to the last, against SMS_PER_SECOND.
  3. Calls: the same with a voice invitation to bench-voice. The stand-in fetches each
     call's TwiML 0.2 s after accepting it, then after the hold (uniform in 0.5-1.5 x
     --hold) posts `CallStatus=completed` to its StatusCallback, signed with the gateway's
     token. Calls in progress (accepted by the stand-in, not yet ended) never above the
     cap; the most counting each until the gateway answered its end is shown beside it.
The worker's VmRSS (main process and its children: the work-horse that runs the send)
is sampled every --rss-interval s during 2 and 3, up to the last acceptance; "flat": the
highest total of the second half no more than 5 % above the highest of the first, of the
samples taken while a job runs (a pass of the send runs in a work-horse forked for it,
so the total drops between passes). The
worker's CPU use (its own, its children's, its reaped work-horses') is shown beside it.
A full run takes about 25 minutes; --keep DIR leaves the logs and stores for a look.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` and `gateway` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from redis import Redis  # noqa: E402

from bench import _client, _traffic  # noqa: E402
from bench import _outreach_procs as procs  # noqa: E402
from bench import _outreach_report as report  # noqa: E402
from bench._servers import (  # noqa: E402
    BENCH_TOKEN,
    REPO,
    Server,
    WorkerSettings,
    free_port,
    gateway_env,
)
from bench._twilio_standin import ANSWER_DELAY  # noqa: E402

GATEWAY_APP = "gateway.app:create_app()"
ACCOUNT = "AC" + "3" * 32
FROM = "+254700000009"
CONSULTATION = "water-test"
TEXT = "Water survey: text WATER to 40404 or wait for our call. Reply STOP to stop."
SW_TEXT = "Utafiti wa maji: tuma MAJI kwa 40404. Jibu STOP kuacha."
SMS_LIST, VOICE_LIST = "bench-sms", "bench-voice"
# Numbers the webhook traffic never uses (its senders are +2547, +2541, +2557...): a STOP
# among them can never exclude a recipient.
SMS_PREFIX, VOICE_PREFIX = "+25568", "+25569"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.outreach_send",
                                description="An SMS and a voice outreach through a local "
                                            "Twilio stand-in, with SMS webhooks meanwhile.")
    p.add_argument("--recipients", type=int, default=100_000,
                   help="SMS recipients (default 100000; 0 skips the SMS part)")
    p.add_argument("--calls", type=int, default=2_000,
                   help="call recipients (default 2000; 0 skips the calls)")
    p.add_argument("--sms-per-second", type=float, default=100.0, help="SMS_PER_SECOND")
    p.add_argument("--calls-per-second", type=float, default=8.0,
                   help="CALLS_PER_SECOND (default 8: with --hold 2, about 16 calls in "
                        "progress, so the cap of 20 is reached at the peaks)")
    p.add_argument("--max-concurrent-calls", type=int, default=20, help="MAX_CONCURRENT_CALLS")
    p.add_argument("--hold", type=float, default=2.0,
                   help="mean seconds a call lasts at the stand-in (default 2)")
    p.add_argument("--webhook-rate", type=float, default=200.0,
                   help="SMS webhooks per second, open loop (default 200)")
    p.add_argument("--webhook-seconds", type=float, default=30.0,
                   help="length of each webhook load (default 30)")
    p.add_argument("--open-connections", type=int, default=64)
    p.add_argument("--grace", type=float, default=3.0,
                   help="webhooks still unsent this long after the schedule count as lost")
    p.add_argument("--settle", type=float, default=5.0,
                   help="seconds after the first acceptance left out of the rate, and "
                        "before the webhook load starts (default 5)")
    p.add_argument("--rss-interval", type=float, default=3.0)
    p.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    p.add_argument("--synchronous", default="FULL", choices=("FULL", "NORMAL"),
                   help="SQLITE_SYNCHRONOUS of the gateway's stores (default FULL)")
    p.add_argument("--sync-interval", type=float, default=30.0,
                   help="SYNC_INTERVAL of the sweep, which also picks up a started outreach "
                        "(default 30, the gateway's own; a sweep every 2 s slows the "
                        "webhooks down a great deal)")
    p.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING"),
                   help="LOG_LEVEL of the worker and the sweep (default INFO, the CLI's own; "
                        "at INFO the twilio client logs each request it makes)")
    p.add_argument("--flows", type=Path, default=REPO / "tests" / "fixtures" / "flows")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/8",
                   help="Redis DB of the gateway's queue and rate limits; flushed (default 8)")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--keep", type=Path, metavar="DIR",
                   help="work in DIR (an empty or new directory) and keep its stores, logs "
                        "and the stand-in's event file; default: a temporary directory")
    args = p.parse_args(argv)
    if args.keep is not None and args.keep.exists() and any(args.keep.iterdir()):
        p.error(f"--keep: {args.keep} is not empty")
    if args.recipients < 0 or args.calls < 0 or args.recipients + args.calls == 0:
        p.error("--recipients and --calls: not negative, and not both 0")
    if min(args.sms_per_second, args.calls_per_second, args.hold, args.webhook_rate,
           args.webhook_seconds, args.rss_interval) <= 0 or args.max_concurrent_calls < 1:
        p.error("rates, durations and the cap must be positive")
    if args.recipients + args.calls >= 10**7:
        p.error("at most 9,999,999 recipients in all")
    return args


class Bench:
    """The running processes and what the phases share."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.events_path = workdir / "twilio-events.txt"
        self.standin_port = free_port()
        self.server = Server("gateway", GATEWAY_APP, workdir, WorkerSettings(args.workers))
        env = gateway_env(workdir, "gateway", args.flows, args.redis_url, args.synchronous)
        env.update(
            TWILIO_ACCOUNT_SID=ACCOUNT, TWILIO_FROM_NUMBER=FROM,
            TWILIO_API_URL=f"http://127.0.0.1:{self.standin_port}",
            PUBLIC_BASE_URL=self.server.url(""), SMS_PER_SECOND=str(args.sms_per_second),
            CALLS_PER_SECOND=str(args.calls_per_second),
            MAX_CONCURRENT_CALLS=str(args.max_concurrent_calls),
            SYNC_INTERVAL=str(args.sync_interval),
            LOG_LEVEL=args.log_level, DATA_DIR=str(workdir),
        )
        self.env = {**os.environ, **env}
        self.server.env.update(env)
        self.requests: list[bytes] = []
        self.used = 0

    def webhooks(self, count: int) -> list[bytes]:
        taken = self.requests[self.used:self.used + count]
        self.used += count
        return taken

    def load(self, name: str) -> report.Latency:
        a = self.args
        progress(f"webhook load: {a.webhook_rate:g} req/s for {a.webhook_seconds:g} s ({name})")
        count = int(a.webhook_rate * a.webhook_seconds)
        result = _client.open_loop(self.server.port, self.webhooks(count), rate=a.webhook_rate,
                                   duration=a.webhook_seconds,
                                   connections=a.open_connections, grace=a.grace)
        return report.Latency.of(name, result)

    def prepare_webhooks(self) -> None:
        a = self.args
        per_load = int(a.webhook_rate * a.webhook_seconds)
        loads = 1 + (a.recipients > 0) + (a.calls > 0)
        consultations = _traffic.open_consultations(a.flows)
        stream = _traffic.conversation_stream(200 + loads * per_load, consultations,
                                              seed=a.seed, window=256)
        signed = _traffic.sign_all(stream, self.server.url(_traffic.SMS_PATH), BENCH_TOKEN)
        self.requests = [_traffic.raw_request(item, self.server.host) for item in signed]
        warm = _client.closed_loop(self.server.port, self.webhooks(200), connections=8,
                                   duration=30.0)
        if warm.statuses.get(200, 0) < 150:
            raise RuntimeError(f"warm-up webhooks: {dict(warm.statuses)}\n"
                               f"{self.server.log_tail()}")

    def import_contacts(self, name: str, prefix: str, count: int) -> None:
        rows = "".join(f"{prefix}{n:07d},en\n" for n in range(count))
        csv = self.workdir / f"{name}.csv"
        csv.write_text(f"phone,language\n{rows}", encoding="utf-8")
        progress(f"contacts import: {count} numbers into {name}")
        procs.cli(["contacts", "import", str(csv), "--list", name,
                   "--basis", "consent recorded at the benchmark's baraza"], self.env,
                  timeout=300 + count / 100)

    def start_outreach(self, channel: str, contact_list: str) -> str:
        now = datetime.now(UTC)
        made = procs.cli([
            "outreach", "create", CONSULTATION, "--kind", "invitation", "--channel", channel,
            "--audience", "contacts", "--list", contact_list,
            "--starts", (now - timedelta(minutes=1)).isoformat(timespec="seconds"),
            "--ends", (now + timedelta(days=1)).isoformat(timespec="seconds"),
            "--hours-from", "00:00", "--hours-to", "23:59", "--text", f"en={TEXT}",
            "--text", f"sw={SW_TEXT}", "--by", "bench"], self.env)
        outreach_id = next(word for word in made.split() if word.startswith("o-"))
        procs.cli(["outreach", "start", outreach_id], self.env)
        progress(f"outreach {outreach_id} ({channel}) started")
        return outreach_id

    def count(self, kind: str) -> int:
        """Lines of one kind in the stand-in's event file, cheaply (polled every second)."""
        try:
            data = self.events_path.read_bytes()
        except FileNotFoundError:
            return 0
        mark = kind.encode("ascii") + b" "
        return data.count(b"\n" + mark) + data.startswith(mark)

    def events(self) -> report.StandInEvents:
        return report.StandInEvents.read(self.events_path)


def progress(message: str) -> None:
    print(f"... {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def wait_until(what: str, done: Callable[[], object], timeout: float,
               worker: procs.Proc) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}\n"
                               f"worker log:\n{worker.log_tail()}")
        if not worker.alive():
            raise RuntimeError(f"the worker exited:\n{worker.log_tail()}")
        time.sleep(1.0)


def run_phase(bench: Bench, worker: procs.Proc, channel: str) -> report.Phase:
    """Start one outreach, put the webhook load on while it sends, wait for its end."""
    a = bench.args
    sms = channel == "sms"
    expected = a.recipients if sms else a.calls
    rate = a.sms_per_second if sms else a.calls_per_second

    def accepted() -> int:
        return bench.count("M" if sms else "C")

    with procs.RssSampler(worker.pid, a.rss_interval) as sampler:
        bench.start_outreach(channel, SMS_LIST if sms else VOICE_LIST)
        started = time.time()
        # The first pass materialises a row per recipient before its first request.
        wait_until(f"the first {channel} request", lambda: accepted() > 0, 120 + expected / 200,
                   worker)
        time.sleep(a.settle)
        webhooks = bench.load(f"during the {'SMS send' if sms else 'calls'}")
        load_ended = time.time()
        wait_until(f"{expected} {channel} requests at the stand-in",
                   lambda: accepted() >= expected, 120 + 3 * expected / rate, worker)
        if not sms:
            wait_until("every call's completion", lambda: bench.count("D") >= expected,
                       60 + 3 * a.hold, worker)
    found = bench.events()
    times = found.messages if sms else found.calls
    last = max(t for t, _ in times)
    sending = [s for s in sampler.samples if s.wall <= last]  # not once the horse is done
    phase = report.Phase(
        "SMS" if sms else "calls", report.steady_rate([t for t, _ in times], a.settle),
        len(times), expected, report.duplicates(times), report.memory(sending),
        webhooks, overlapped=last >= load_ended,
        first_after=min(t for t, _ in times) - started)
    if not sms:
        starts = [t for t, _ in found.calls]
        phase.concurrent = report.max_concurrent(starts, [t for t, _ in found.ended])
        phase.unrecorded = report.max_concurrent(starts, [t for t, _ in found.completed])[0]
        phase.callback_errors = sum(1 for _, status in found.answered + found.completed
                                    if not 200 <= status < 300)
    progress(f"{phase.name}: {phase.accepted} accepted, {phase.rate.per_second:.2f}/s steady")
    return phase


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds: every process started is stopped on the way


def run(args: argparse.Namespace) -> int:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    redis = Redis.from_url(args.redis_url, socket_connect_timeout=2)
    redis.ping()
    redis.flushdb()
    load_before = os.getloadavg()
    started = time.monotonic()
    try:
        if args.keep is not None:
            args.keep.mkdir(parents=True, exist_ok=True)
            baseline, phases = _run_all(args, args.keep)
        else:
            with tempfile.TemporaryDirectory(prefix="civicline-outreach-") as tmp:
                baseline, phases = _run_all(args, Path(tmp))
    finally:
        redis.flushdb()
        redis.close()
    _print(args, baseline, phases)
    load_after = os.getloadavg()
    print(f"\nrun took {time.monotonic() - started:.0f} s; Python "
          f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}; load average "
          f"(1 min) {load_before[0]:.2f} before, {load_after[0]:.2f} after, on "
          f"{os.cpu_count()} cores (other processes on the machine skew the figures)")
    return 0 if all(met for *_, met in report.targets(args, baseline, phases) if met is not None) \
        else 1


def _run_all(args: argparse.Namespace, workdir: Path) -> tuple[report.Latency, list[report.Phase]]:
    bench = Bench(args, workdir)
    standin = procs.standin(workdir, bench.standin_port, BENCH_TOKEN, args.hold, args.seed)
    worker = procs.Proc("worker", [procs.CIVICLINE, "worker"], bench.env, workdir)
    sweep = procs.Proc("sweep", [procs.CIVICLINE, "sync"], bench.env, workdir)
    with standin, bench.server:
        procs.wait_listening(bench.standin_port, standin)
        progress("gateway up; starting the worker and the sweep")
        with worker, sweep:
            worker.wait_log("Listening on", 60)
            sweep.wait_log("syncing every", 60)
            if args.recipients:
                bench.import_contacts(SMS_LIST, SMS_PREFIX, args.recipients)
            if args.calls:
                bench.import_contacts(VOICE_LIST, VOICE_PREFIX, args.calls)
            bench.prepare_webhooks()
            baseline = bench.load("before any outreach")
            phases = []
            if args.recipients:
                phases.append(run_phase(bench, worker, "sms"))
            if args.calls:
                phases.append(run_phase(bench, worker, "voice"))
    return baseline, phases


def _print(args: argparse.Namespace, baseline: report.Latency,
           phases: Sequence[report.Phase]) -> None:
    print(f"outreach bench: {args.recipients} SMS recipients at SMS_PER_SECOND="
          f"{args.sms_per_second:g}; {args.calls} calls at CALLS_PER_SECOND="
          f"{args.calls_per_second:g}, MAX_CONCURRENT_CALLS={args.max_concurrent_calls}, "
          f"calls held {args.hold:g} s on average (0.5-1.5 x)")
    print(f"gateway: gunicorn -w {args.workers} -k sync, SQLite {args.synchronous}, centre "
          f"embedded; one `civicline worker` (RQ, {args.redis_url}), `civicline sync` "
          f"every {args.sync_interval:g} s, LOG_LEVEL={args.log_level}; Twilio stand-in in a "
          "process of its own; all on 127.0.0.1")
    if args.calls:
        length = args.hold + ANSWER_DELAY
        print(f"calls: {args.calls_per_second * length:.1f} in progress on average at "
              f"CALLS_PER_SECOND (each {length:g} s from acceptance to its end); the cap "
              f"allows at most {args.max_concurrent_calls / length:.1f} calls/s")
    report.print_latencies([baseline, *(ph.webhooks for ph in phases)], args.webhook_rate,
                           args.webhook_seconds)
    print(f"\nworker VmRSS every {args.rss_interval:g} s (main process + children):")
    for ph in phases:
        report.print_memory(ph.name, ph.memory)
    report.print_table(report.targets(args, baseline, phases))


def main(argv: Sequence[str] | None = None) -> int:
    return run(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
