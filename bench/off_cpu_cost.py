"""What one wait off the CPU costs a webhook: the log's sync beside sleeps of its place.

    .venv/bin/python -m bench.off_cpu_cost [--requests 3000] [--repeat 2]

SQLITE_SYNCHRONOUS=FULL makes each webhook wait once for the disk (the write-ahead log's
fdatasync, gateway/store/log_sync.py). This runs the SMS benchmark's webhooks through
Flask's test client on the gateway with FULL, in one process, with that sync as it is,
replaced by nothing, and replaced by a sleep of 20 µs or 140 µs: the same work and the
same instructions, with and without a wait. Each variant runs on fresh stores, in turn,
`--repeat` times. Per webhook it prints process CPU time, wall time and voluntary context
switches, and the CPU and wall time over the variant without a wait.

Where a wait of any length costs far more CPU than the wait itself (the process resumes
with cold caches; on a virtual machine an idle core may also be handed back to the host),
FULL's cost per webhook is set by the number of waits, not by the disk's speed.

`python -m bench.sms_webhook --sync-as-sleep US` does the same inside gunicorn's workers
(`install_sleep_for_sync`, through bench/_lock_probe.py's worker hook).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from redis import Redis

from bench import _traffic
from bench._profile import add_store_options, close_app, gateway_app, post_sms, signed_sms
from gateway.store import log_sync

SLEEP_ENV = "BENCH_SYNC_AS_SLEEP_US"


def _sleeping(microseconds: float) -> Callable[[int], None]:
    seconds = microseconds / 1e6
    return lambda fd: time.sleep(seconds)


def install_sleep_for_sync(microseconds: float) -> None:
    """From now on, in this process, the log's sync is a sleep (0: nothing) and its
    writeback is not started: the store stays as durable as with NORMAL."""
    log_sync.sync_data = _sleeping(microseconds) if microseconds > 0 else (lambda fd: None)
    log_sync.start_writeback = lambda fd: None


@dataclass(frozen=True)
class Variant:
    label: str
    sleep_us: float | None  # in place of the sync; None: the real sync and writeback


VARIANTS = (
    Variant("real sync", None),
    Variant("no wait", 0),
    Variant("sleep 20 µs", 20),
    Variant("sleep 140 µs", 140),
)


@dataclass(frozen=True)
class Run:
    cpu_us: float
    wall_us: float
    switches: float


def measure(variant: Variant, signed: Sequence[_traffic.Signed], warmup: int,
            flows: Path, redis_url: str) -> Run:
    real = (log_sync.sync_data, log_sync.start_writeback)
    if variant.sleep_us is not None:
        install_sleep_for_sync(variant.sleep_us)
    try:
        with tempfile.TemporaryDirectory(prefix="civicline-offcpu-") as tmp:
            app = gateway_app(Path(tmp), flows, redis_url, "FULL")
            client = app.test_client()
            try:
                for item in signed[:warmup]:
                    post_sms(client, item)
                before = resource.getrusage(resource.RUSAGE_SELF)
                cpu, wall = time.process_time(), time.perf_counter()
                for item in signed[warmup:]:
                    response = post_sms(client, item)
                    if response.status_code != 200:
                        raise RuntimeError(f"HTTP {response.status_code}")
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                after = resource.getrusage(resource.RUSAGE_SELF)
            finally:
                close_app(app)
    finally:
        log_sync.sync_data, log_sync.start_writeback = real
    n = len(signed) - warmup
    return Run(cpu * 1e6 / n, wall * 1e6 / n, (after.ru_nvcsw - before.ru_nvcsw) / n)


def run(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=2)
    add_store_options(parser)
    args = parser.parse_args(argv)

    signed = signed_sms(args.flows, args.warmup + args.requests, seed=11)
    redis = Redis.from_url(args.redis_url)
    runs: dict[str, list[Run]] = {v.label: [] for v in VARIANTS}
    try:
        for _ in range(args.repeat):
            for variant in VARIANTS:
                redis.flushdb()
                runs[variant.label].append(
                    measure(variant, signed, args.warmup, args.flows, args.redis_url))
    finally:
        redis.flushdb()
        redis.close()

    print(f"{args.requests} SMS webhooks after {args.warmup} warm-up, one process, Flask test "
          f"client, SQLITE_SYNCHRONOUS=FULL; {args.repeat} runs per variant, in turn; "
          "per webhook, mean of the runs (each run's figure in brackets)")
    print(f"{'variant':<14} {'CPU µs':>22} {'wall µs':>22} {'switches':>9} "
          f"{'+CPU µs':>8} {'+wall µs':>9}")
    quiet = runs["no wait"]
    quiet_cpu = statistics.mean(r.cpu_us for r in quiet)
    quiet_wall = statistics.mean(r.wall_us for r in quiet)
    for label, measured in runs.items():
        cpu = statistics.mean(r.cpu_us for r in measured)
        wall = statistics.mean(r.wall_us for r in measured)
        each_cpu = "/".join(f"{r.cpu_us:.0f}" for r in measured)
        each_wall = "/".join(f"{r.wall_us:.0f}" for r in measured)
        print(f"{label:<14} {cpu:6.0f} [{each_cpu:>13}] {wall:6.0f} [{each_wall:>13}] "
              f"{statistics.mean(r.switches for r in measured):9.2f} "
              f"{cpu - quiet_cpu:+8.0f} {wall - quiet_wall:+9.0f}")
    print("switches = voluntary context switches; +CPU, +wall = over 'no wait'")


if __name__ == "__main__":
    run()
