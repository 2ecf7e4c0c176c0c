"""Memory of one gunicorn web worker over 100,000 signed SMS webhooks, beside the baseline.

    .venv/bin/python -m bench.worker_memory [--requests 100000] [--sample-every 10000]
        [--connections 4] [--synchronous FULL] [--tool auto|wrk|python]

For the baseline (bench/baseline_app.py: signature check + constant TwiML) and then the
gateway (gateway.app:create_app() on a fresh SQLite file in a temp dir, the consultations
of --flows, Redis DB 12 flushed so the real sync trigger runs), each under gunicorn with ONE
sync worker and max_requests off (no recycling; otherwise the SMS bench's settings):
sends --requests signed webhooks of bench/_traffic.py (many distinct numbers texting
keywords, answering, invalid replies, HELP, SKIP, LANG, STOP, a closed keyword, Twilio
retries) in chunks, and after each chunk reads the worker's /proc/<pid>/status: VmRSS
(resident now), VmHWM (peak resident), and RssAnon / RssFile / RssShmem (heap and
anonymous maps / mapped files such as libraries / shared memory such as SQLite's WAL
index). Samples: at start (after /healthz), after the first 1,000 requests (one-time
lazy set-up: imports, first queries, caches), then every --sample-every requests.

Prints the samples, the growth from the 1,000-request sample to the end, the growth per
10,000 requests in the first and the second half, and says the RSS plateaus when the
second half grew less than 1 MiB or less than a quarter of the first half. The worker's
pid is checked at every sample: a restarted worker would make the figures meaningless.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` and `gateway` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from redis import Redis  # noqa: E402

from bench import _client, _traffic, _wrk  # noqa: E402
from bench._servers import BENCH_TOKEN, REPO, Server, WorkerSettings, gateway_env  # noqa: E402
from bench.sms_webhook import BASELINE_APP, GATEWAY_APP, progress  # noqa: E402

STATUS_FIELDS = ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem")
FIRST_SAMPLE = 1_000
PLATEAU_MIB = 1.0


@dataclass
class Sample:
    requests: int  # answered so far
    kib: dict[str, int]  # STATUS_FIELDS, in kB as /proc says

    def mib(self, name: str) -> float:
        return self.kib.get(name, 0) / 1024


@dataclass
class AppRun:
    name: str
    worker_pid: int
    samples: list[Sample] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0
    replies: int = 0
    seconds: float = 0.0
    restarted: bool = False
    store: str = ""

    @property
    def answered(self) -> int:
        return self.samples[-1].requests if self.samples else 0


def worker_pids(server: Server) -> list[int]:
    assert server.process is not None
    master = server.process.pid
    try:
        text = Path(f"/proc/{master}/task/{master}/children").read_text()
    except OSError:
        return []
    return [int(pid) for pid in text.split()]


def read_status(pid: int) -> dict[str, int]:
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in STATUS_FIELDS:
            values[name] = int(rest.split()[0])  # "  123456 kB"
    return values


def only_worker(server: Server) -> int:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        pids = worker_pids(server)
        if len(pids) == 1:
            return pids[0]
        time.sleep(0.1)
    raise RuntimeError(f"{server.name}: expected one worker, found {worker_pids(server)}")


def boundaries(total: int, every: int) -> list[int]:
    points = [min(FIRST_SAMPLE, total)] + list(range(every, total, every)) + [total]
    return sorted(set(p for p in points if p > 0))


def send_chunk(args: argparse.Namespace, server: Server, workdir: Path,
               chunk: Sequence[_traffic.Signed], run: AppRun) -> int:
    """Send `chunk`; returns how many responses came back."""
    if args.tool == "wrk":
        result = _wrk.run(workdir, server.name, server.host, chunk,
                          connections=args.connections, threads=1,
                          max_seconds=args.chunk_seconds)
        run.statuses.update(result.statuses)
        run.errors += sum(result.errors.values())
        run.replies += result.replies
        return result.completed
    raw = [_traffic.raw_request(item, server.host) for item in chunk]
    outcome = _client.closed_loop(server.port, raw, connections=args.connections,
                                  duration=float(args.chunk_seconds))
    run.statuses.update(outcome.statuses)
    run.errors += sum(outcome.errors.values())
    run.replies += outcome.replies
    return outcome.completed


def measure(args: argparse.Namespace, name: str, server: Server, workdir: Path,
            stream: Sequence[_traffic.Sms]) -> AppRun:
    progress(f"{name}: signing {len(stream)} webhooks")
    signed = _traffic.sign_all(stream, server.url(_traffic.SMS_PATH), BENCH_TOKEN)
    pid = only_worker(server)
    run = AppRun(name, pid)
    run.samples.append(Sample(0, read_status(pid)))
    started = time.perf_counter()
    sent = 0
    answered = 0
    for point in boundaries(len(signed), args.sample_every):
        answered += send_chunk(args, server, workdir, signed[sent:point], run)
        sent = point
        if worker_pids(server) != [pid]:
            run.restarted = True
            progress(f"{name}: the worker changed ({worker_pids(server)}); stopping")
            break
        run.samples.append(Sample(answered, read_status(pid)))
        progress(f"{name}: {answered} answered, VmRSS {run.samples[-1].mib('VmRSS'):.1f} MiB")
    run.seconds = time.perf_counter() - started
    return run


def store_summary(database: Path) -> str:
    with sqlite3.connect(database) as conn:
        counts = {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
                  for table in ("inbound", "participants", "sessions", "events")}
    conn.close()
    return ", ".join(f"{n} {table}" for table, n in counts.items())


def verdict(run: AppRun) -> str:
    """Growth after the first 1,000 requests, per half, and whether it plateaus."""
    samples = run.samples
    if len(samples) < 4:
        return "too few samples"
    start = next((s for s in samples if s.requests >= FIRST_SAMPLE), samples[1])
    end = samples[-1]
    middle = min(samples, key=lambda s: abs(s.requests - (start.requests + end.requests) / 2))
    first = middle.mib("VmRSS") - start.mib("VmRSS")
    second = end.mib("VmRSS") - middle.mib("VmRSS")
    span1 = max(middle.requests - start.requests, 1) / 10_000
    span2 = max(end.requests - middle.requests, 1) / 10_000
    plateau = second < PLATEAU_MIB or second < first / 4
    return (f"VmRSS {samples[0].mib('VmRSS'):.1f} MiB at start, {start.mib('VmRSS'):.1f} after "
            f"{start.requests:,}, {end.mib('VmRSS'):.1f} after {end.requests:,} requests: "
            f"+{end.mib('VmRSS') - start.mib('VmRSS'):.1f} MiB after the first {start.requests:,} "
            f"({first:+.2f} MiB from {start.requests:,} to {middle.requests:,} = "
            f"{first / span1:+.2f} MiB per 10k; {second:+.2f} MiB from {middle.requests:,} to "
            f"{end.requests:,} = {second / span2:+.2f} MiB per 10k); peak VmHWM "
            f"{end.mib('VmHWM'):.1f} MiB; "
            + ("PLATEAUS" if plateau else "DOES NOT PLATEAU")
            + f" (second half < {PLATEAU_MIB:g} MiB or < 1/4 of the first half)")


def print_report(args: argparse.Namespace, runs: Sequence[AppRun]) -> None:
    print(f"CivicLine web worker memory: gunicorn -w 1 -k sync, max_requests off, access log "
          f"off; {args.requests:,} signed SMS webhooks per app ({args.tool}, "
          f"{args.connections} connections), gateway SQLITE_SYNCHRONOUS={args.synchronous}")
    print("MiB from /proc/<worker pid>/status (VmRSS resident now, VmHWM peak resident, "
          "RssAnon heap/anonymous, RssFile mapped files, RssShmem shared memory)")
    for run in runs:
        print()
        bad = {c: n for c, n in sorted(run.statuses.items()) if not 200 <= c < 300}
        rate = run.answered / run.seconds if run.seconds else 0.0
        print(f"{run.name} (worker pid {run.worker_pid}{', RESTARTED' if run.restarted else ''}"
              f"): {run.answered:,} answered in {run.seconds:.0f} s ({rate:.0f} req/s), "
              f"non-2xx {bad or 0}, errors {run.errors}, SMS replies {run.replies:,}")
        header = f"{'requests':>9} " + " ".join(f"{name:>9}" for name in STATUS_FIELDS)
        print(header)
        print("-" * len(header))
        for sample in run.samples:
            print(f"{sample.requests:>9,} " + " ".join(f"{sample.mib(n):>9.1f}"
                                                       for n in STATUS_FIELDS))
        print(verdict(run))
        if run.store:
            print(f"store afterwards: {run.store}")
    gateway = next((r for r in runs if r.name.startswith("gateway")), None)
    baseline = next((r for r in runs if r.name == "baseline"), None)
    if gateway and baseline and gateway.samples and baseline.samples:
        g, b = gateway.samples, baseline.samples
        print()
        grown_g = g[-1].mib("VmRSS") - g[0].mib("VmRSS")
        grown_b = b[-1].mib("VmRSS") - b[0].mib("VmRSS")
        print(f"gateway vs baseline: VmRSS at the end {g[-1].mib('VmRSS'):.1f} vs "
              f"{b[-1].mib('VmRSS'):.1f} MiB; growth from start {grown_g:+.1f} vs "
              f"{grown_b:+.1f} MiB")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.worker_memory",
        description="RSS of one gunicorn worker over many signed SMS webhooks, gateway and "
                    "baseline.",
    )
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--sample-every", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=4,
                        help="client connections (one sync worker answers one at a time)")
    parser.add_argument("--chunk-seconds", type=int, default=600,
                        help="upper bound in seconds for each chunk between samples")
    parser.add_argument("--synchronous", default="FULL", choices=("FULL", "NORMAL", "EXTRA"))
    parser.add_argument("--tool", default="auto", choices=("auto", "wrk", "python"))
    parser.add_argument("--flows", type=Path, default=REPO / "tests" / "fixtures" / "flows")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12",
                        help="Redis DB for the gateway's sync trigger; flushed (default DB 12)")
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args(argv)
    if args.tool == "auto":
        args.tool = "wrk" if _wrk.available() else "python"
    elif args.tool == "wrk" and not _wrk.available():
        parser.error("--tool wrk: wrk is not installed (apt-get install -y wrk)")
    if min(args.requests, args.sample_every, args.connections, args.chunk_seconds) < 1:
        parser.error("counts and durations must be positive")
    return args


def run(args: argparse.Namespace) -> int:
    consultations = _traffic.open_consultations(args.flows)
    stream = _traffic.conversation_stream(args.requests, consultations, seed=args.seed,
                                          closed=_traffic.closed_keywords(args.flows))
    distinct = len({sms.sender for sms in stream})
    settings = WorkerSettings(workers=1)
    redis = Redis.from_url(args.redis_url, socket_connect_timeout=2)
    redis.ping()
    load_before = os.getloadavg()
    started = time.monotonic()
    runs: list[AppRun] = []
    try:
        with tempfile.TemporaryDirectory(prefix="civicline-memory-bench-") as tmp:
            workdir = Path(tmp)
            if not args.skip_baseline:
                env = {"TWILIO_AUTH_TOKEN": BENCH_TOKEN}
                with Server("baseline", BASELINE_APP, workdir, settings, env) as server:
                    runs.append(measure(args, "baseline", server, workdir, stream))
            redis.flushdb()
            genv = gateway_env(workdir, "gateway", args.flows, args.redis_url, args.synchronous)
            with Server("gateway", GATEWAY_APP, workdir, settings, genv) as server:
                runs.append(measure(args, f"gateway {args.synchronous}", server, workdir,
                                    stream))
            runs[-1].store = store_summary(workdir / "gateway.db")
    finally:
        redis.flushdb()
        redis.close()
    load_after = os.getloadavg()
    print_report(args, runs)
    print(f"\ntraffic: {len(stream):,} webhooks from {distinct:,} distinct numbers "
          f"(seed {args.seed})")
    print(f"run took {time.monotonic() - started:.0f} s; Python {platform.python_version()}; "
          f"load average (1 min) {load_before[0]:.2f} before, {load_after[0]:.2f} after, on "
          f"{os.cpu_count()} cores")
    failed = any(r.restarted or r.errors or any(not 200 <= c < 300 for c in r.statuses)
                 for r in runs)
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    return run(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
