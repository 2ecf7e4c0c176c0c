"""What one SMS webhook costs in one process: the gateway beside the baseline app.

    .venv/bin/python -m bench.request_cost [--requests 12000] [--wal-autocheckpoint PAGES]
                                           [--connections N]

No HTTP server: the SMS benchmark's signed webhooks through Flask's test client, the
same stream for every run, each gateway run on fresh stores. Runs, in this order: the
baseline app (bench/baseline_app.py), the gateway with SQLITE_SYNCHRONOUS=FULL, then
NORMAL. Prints per request: CPU (process time), wall time and its tail, and the time
spent in requests over 1 ms (mostly checkpoints of the write-ahead log, which run inside
the write lock).

`base/x` is the baseline's CPU per request over the app's. bench/sms_webhook.py's
throughput ratio differs from it in two ways: under gunicorn both apps also pay the
server's own cost per request (which moves the ratio towards 1), and the gateway's workers
wait on the log's sync and the write lock with a core idle (which lowers it).

--connections N sends the gateway's webhooks to N app instances on the same store in turn,
as N gunicorn workers share it: each transaction then starts after another connection's
commit, which makes SQLite drop that connection's page cache and read every page the
webhook touches again. With 1 (the default) the connection's cache stays valid.

--wal-autocheckpoint sets that pragma on the gateway's connections (SQLite's default is
1000 pages), to see how checkpoint size moves the stalls on this machine's disk.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from redis import Redis

from bench import _traffic
from bench._profile import (
    add_store_options,
    close_app,
    gateway_app,
    post_sms,
    set_wal_autocheckpoint,
    signed_sms,
)
from bench._servers import BENCH_TOKEN
from bench.baseline_app import create_app as create_baseline

STALL_S = 0.001


@dataclass(frozen=True)
class Cost:
    label: str
    cpu: float  # seconds of process time over the timed requests
    walls: list[float]  # seconds, one per timed request

    def row(self, baseline_cpu: float) -> str:
        n = len(self.walls)
        ordered = sorted(self.walls)
        stalls = [t for t in self.walls if t > STALL_S]
        mean_wall = statistics.mean(self.walls)
        return (f"{self.label:<16} {self.cpu * 1e3 / n:8.3f} {mean_wall * 1e3:8.3f} "
                f"{ordered[int(n * 0.99)] * 1e3:7.2f} {ordered[-1] * 1e3:7.1f} {len(stalls):7d} "
                f"{sum(stalls) * 1e3:9.0f} {baseline_cpu / self.cpu:7.2f}")


def measure(label: str, apps: Sequence[Flask], signed: Sequence[_traffic.Signed],
            warmup: int) -> Cost:
    clients = [app.test_client() for app in apps]
    walls: list[float] = []
    cpu = 0.0
    for index, item in enumerate(signed):
        if index == warmup:
            cpu = time.process_time()
        started = time.perf_counter()
        response = post_sms(clients[index % len(clients)], item)
        walls.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"{label}: HTTP {response.status_code} {response.data[:200]!r}")
    return Cost(label, time.process_time() - cpu, walls[warmup:])


def gateway_cost(synchronous: str, signed: Sequence[_traffic.Signed], args: argparse.Namespace,
                 redis: Redis) -> Cost:
    redis.flushdb()
    with tempfile.TemporaryDirectory(prefix="civicline-cost-") as tmp:
        apps = [gateway_app(Path(tmp), args.flows, args.redis_url, synchronous)
                for _ in range(args.connections)]
        try:
            if args.wal_autocheckpoint is not None:
                for app in apps:
                    set_wal_autocheckpoint(app, args.wal_autocheckpoint)
            return measure(f"gateway {synchronous}", apps, signed, args.warmup)
        finally:
            for app in apps:
                close_app(app)


def run(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=12000)
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--wal-autocheckpoint", type=int, metavar="PAGES")
    parser.add_argument("--connections", type=int, default=1, metavar="N")
    add_store_options(parser)
    args = parser.parse_args(argv)

    signed = signed_sms(args.flows, args.warmup + args.requests, seed=11)
    redis = Redis.from_url(args.redis_url)
    try:
        costs = [measure("baseline", [create_baseline(BENCH_TOKEN)], signed, args.warmup)]
        costs += [gateway_cost(level, signed, args, redis) for level in ("FULL", "NORMAL")]
    finally:
        redis.flushdb()
        redis.close()

    pages = args.wal_autocheckpoint or "SQLite's default"
    print(f"{args.requests} SMS webhooks after {args.warmup} warm-up, one process, Flask test "
          f"client; wal_autocheckpoint: {pages}; gateway connections taking turns: "
          f"{args.connections}; times in ms per request unless marked")
    print(f"{'app':<16} {'CPU':>8} {'wall':>8} {'p99':>7} {'max':>7} {'>1 ms':>7} "
          f"{'in >1 ms':>9} {'base/x':>7}")
    for cost in costs:
        print(cost.row(costs[0].cpu))
    print("base/x = baseline CPU per request / this app's CPU per request")


if __name__ == "__main__":
    run()
