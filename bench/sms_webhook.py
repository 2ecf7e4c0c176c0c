"""Load test of POST /twilio/sms under gunicorn, the gateway on each store beside two floors.

    .venv/bin/python -m bench.sms_webhook [--concurrency 32] [--requests 20000]
        [--duration 20] [--rate 200] [--rate-duration 20] [--stores full,normal,postgresql]
        [--postgres postgresql://postgres@127.0.0.1:5432/test]

Starts gunicorn (same settings for every app, access log off) for, in this order,
  * the baseline, bench/baseline_app.py: SDK signature check + constant TwiML;
  * the one-insert app, bench/one_insert_app.py: the same check, one row inserted into a
    SQLite file (WAL, synchronous=FULL) and committed, then the same constant TwiML;
  * the gateway, gateway.app:create_app(), with the consultations of --flows and Redis
    DB 12 (flushed) so the real sync trigger runs, on each store of --stores:
      full        a fresh SQLite file in a temp dir, SQLITE_SYNCHRONOUS=FULL (the default)
      normal      the same with SQLITE_SYNCHRONOUS=NORMAL
      postgresql  a fresh schema in the --postgres database (its connections get
                  search_path=<schema> in the URL), dropped afterwards; the central store
                  the gateway embeds stays on SQLite (FULL) in the temp dir
and posts the same webhooks to each, signed exactly as Twilio signs them
(RequestValidator.compute_signature over the full URL and every form field), from many
distinct participants texting a keyword and then answering, with invalid replies, HELP,
SKIP, STOP and retries among them.

(a) Closed loop, max throughput: --concurrency connections (wrk with a Lua script when wrk is
    installed, else the Python client) until --requests responses or --duration seconds;
    req/s and p50/p99/max latency for each app, and its ratio to the baseline and to the
    one-insert app.
(b) Open loop: --rate requests/s for --rate-duration s at fixed due times, latency measured
    from the due time (no coordinated omission); p50/p99/max against the --target-p99.
    Requests still unsent --grace s after the schedule ends are dropped and count as
    unanswered, so an overloaded server cannot stretch the run.
The same Python client is also run alone against the baseline (open loop at the same rate,
and closed loop flat out), and CPU use of server and load generator is shown per row, to
show the generator is not what limits the figures. Each app must first refuse (403) a
webhook altered after signing; the rows in each store are counted after its run. A default
run takes about 4 minutes; wrk comes from Debian (`apt-get install -y wrk`).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import resource
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` and `gateway` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from redis import Redis  # noqa: E402

from bench import _client, _traffic, _wrk  # noqa: E402
from bench._servers import BENCH_TOKEN, REPO, Server, WorkerSettings, gateway_env  # noqa: E402
from bench._sms_report import (  # noqa: E402
    BASELINE,
    ONE_INSERT,
    Row,
    StoreCheck,
    client_row,
    print_report,
    wrk_row,
)
from bench._sms_stores import (  # noqa: E402
    DEFAULT_POSTGRES,
    GATEWAY_TABLES,
    STORES,
    count_rows,
    postgres_facts,
    store_url,
)
from bench.one_insert_app import DATABASE_ENV as ONE_INSERT_DATABASE_ENV  # noqa: E402
from gateway.sync.trigger import QUEUE_NAME  # noqa: E402

BASELINE_APP = "bench.baseline_app:create_app()"
ONE_INSERT_APP = "bench.one_insert_app:create_app()"
GATEWAY_APP = "gateway.app:create_app()"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.sms_webhook",
        description="Signed Twilio SMS webhooks against the gateway on each store, beside "
                    "a baseline and a one-insert app.",
    )
    parser.add_argument("--concurrency", type=int, default=32,
                        help="(a) connections, closed loop (default 32)")
    parser.add_argument("--requests", type=int, default=20_000,
                        help="(a) requests per app, closed loop (default 20000)")
    parser.add_argument("--duration", type=int, default=20,
                        help="(a) upper bound in seconds per app (default 20)")
    parser.add_argument("--rate", type=float, default=200.0,
                        help="(b) open-loop requests per second (default 200)")
    parser.add_argument("--rate-duration", type=float, default=20.0,
                        help="(b) open-loop seconds (default 20)")
    parser.add_argument("--open-connections", type=int, default=64,
                        help="(b) client connections available to the open loop (default 64)")
    parser.add_argument("--grace", type=float, default=3.0,
                        help="(b) seconds past the schedule after which requests still unsent "
                             "are dropped and counted as unanswered (default 3)")
    parser.add_argument("--target-p99", type=float, default=50.0,
                        help="(b) p99 target in ms (default 50)")
    parser.add_argument("--client-check-seconds", type=float, default=3.0,
                        help="Python client flat out against the baseline, seconds (default 3)")
    parser.add_argument("--warmup", type=int, default=200,
                        help="requests before each measurement, not counted (default 200)")
    parser.add_argument("--stores", default=",".join(store.key for store in STORES),
                        help="the gateway's local stores to run, in the order "
                             f"{', '.join(store.key for store in STORES)} whatever the order "
                             "given (default all three)")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, metavar="URL",
                        help="PostgreSQL database for the postgresql store; a fresh schema "
                             "is made in it for the run and dropped after (default "
                             f"{DEFAULT_POSTGRES})")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="sync", choices=("sync", "gthread"))
    parser.add_argument("--threads", type=int, default=1, help="gthread threads per worker")
    parser.add_argument("--tool", default="auto", choices=("auto", "wrk", "python"),
                        help="(a) load generator: wrk when installed (auto), or the Python one")
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--flows", type=Path, default=REPO / "tests" / "fixtures" / "flows",
                        help="FLOWS_DIR for the gateway and the traffic (default test fixtures)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12",
                        help="Redis DB for the gateway's sync trigger; flushed (default DB 12)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args(argv)
    wanted = {s.strip().lower() for s in args.stores.split(",") if s.strip()}
    unknown = wanted - {store.key for store in STORES}
    if unknown:
        parser.error(f"--stores: {', '.join(sorted(unknown))} not among "
                     f"{', '.join(store.key for store in STORES)}")
    args.stores = [store for store in STORES if store.key in wanted]
    if not args.stores:
        parser.error("--stores: name at least one store")
    if args.tool == "auto":
        args.tool = "wrk" if _wrk.available() else "python"
    elif args.tool == "wrk" and not _wrk.available():
        parser.error("--tool wrk: wrk is not installed (apt-get install -y wrk)")
    if min(args.concurrency, args.requests, args.duration, args.open_connections) < 1:
        parser.error("counts and durations must be positive")
    if args.rate <= 0 or args.rate_duration <= 0:
        parser.error("--rate and --rate-duration must be positive")
    if args.wrk_threads > args.concurrency:
        parser.error("--wrk-threads cannot exceed --concurrency")
    return args


@dataclass
class Slices:
    """Disjoint parts of one traffic stream: warm-up, closed loop, open loop."""

    warmup: slice
    closed: slice
    opened: slice

    @classmethod
    def of(cls, warmup: int, closed: int, opened: int) -> Slices:
        return cls(slice(0, warmup), slice(warmup, warmup + closed),
                   slice(warmup + closed, warmup + closed + opened))


class Meter:
    """CPU used by the server and by the load generator (this process + its children)."""

    def __init__(self, server: Server) -> None:
        self.server = server

    def __enter__(self) -> Meter:
        self.wall = time.perf_counter()
        self.server_cpu = self.server.cpu_seconds()
        self.client_cpu = _own_cpu()
        return self

    def __exit__(self, *exc: object) -> None:
        wall = max(time.perf_counter() - self.wall, 1e-9)
        self.server_cores = (self.server.cpu_seconds() - self.server_cpu) / wall
        self.client_cores = (_own_cpu() - self.client_cpu) / wall

    def stamp(self, row: Row) -> Row:
        row.server_cores, row.client_cores = self.server_cores, self.client_cores
        return row


def _own_cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk, once it has been waited for
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def measure_app(
    args: argparse.Namespace, label: str, server: Server, workdir: Path,
    stream: Sequence[_traffic.Sms], slices: Slices, *, client_check: bool,
) -> tuple[Row, Row, Row | None, int]:
    """Warm up, then (a) closed loop and (b) open loop against one running server.

    Returns the rows of (a), (b), the client check (or None) and the warm-up's 2xx count.
    """
    signed = _traffic.sign_all(stream, server.url(_traffic.SMS_PATH), BENCH_TOKEN)
    raw = [_traffic.raw_request(item, server.host) for item in signed]
    progress(f"{label}: warm-up, then (a) closed loop")
    warm = _client.closed_loop(server.port, raw[slices.warmup], connections=8, duration=30.0)
    warm_ok = sum(n for code, n in warm.statuses.items() if 200 <= code < 300)
    _check_signatures_enforced(label, server, signed[0])

    with Meter(server) as meter:
        if args.tool == "wrk":
            closed = wrk_row(label, _wrk.run(
                workdir, server.name, server.host, signed[slices.closed],
                connections=args.concurrency, threads=args.wrk_threads,
                max_seconds=args.duration,
            ))
        else:
            closed = client_row(label, _client.closed_loop(
                server.port, raw[slices.closed], connections=args.concurrency,
                duration=args.duration,
            ))
    meter.stamp(closed)

    check = None
    if client_check:  # the Python client flat out: what it can drive at most
        with Meter(server) as meter:
            check = client_row(f"{label} (python client)", _client.closed_loop(
                server.port, raw[slices.closed], connections=args.concurrency,
                duration=args.client_check_seconds,
            ))
        meter.stamp(check)
    time.sleep(0.5)
    progress(f"{label}: (b) open loop")
    with Meter(server) as meter:
        opened = client_row(label, _client.open_loop(
            server.port, raw[slices.opened], rate=args.rate, duration=args.rate_duration,
            connections=args.open_connections, grace=args.grace,
        ))
    meter.stamp(opened)
    return closed, opened, check, warm_ok


def _check_signatures_enforced(label: str, server: Server, good: _traffic.Signed) -> None:
    """A webhook whose form was altered after signing must get 403: checks are really on."""
    forged = dataclasses.replace(good, body=good.body.replace(b"Body=", b"Body=X", 1))
    conn = _client.Connection(server.port, timeout=15.0)
    try:
        status, _ = conn.exchange(_traffic.raw_request(forged, server.host))
    finally:
        conn.close()
    if status != 403:
        raise RuntimeError(f"{label}: a forged signature got HTTP {status}, not 403")


def run(args: argparse.Namespace) -> int:
    settings = WorkerSettings(args.workers, args.worker_class, args.threads)
    consultations = _traffic.open_consultations(args.flows)
    closed_words = _traffic.closed_keywords(args.flows)
    open_count = int(args.rate * args.rate_duration)
    slices = Slices.of(args.warmup, args.requests, open_count)
    window = max(256, 4 * max(args.concurrency, args.open_connections))
    # (b) gets its own participants, so where (a) stopped (by count or by time) does not
    # leave it half-finished conversations; each stream starts with a burst of keywords.
    stream = [
        *_traffic.conversation_stream(slices.closed.stop, consultations, seed=args.seed,
                                      window=window, closed=closed_words),
        *_traffic.conversation_stream(open_count, consultations, seed=args.seed + 1,
                                      window=window, closed=closed_words),
    ]
    redis = Redis.from_url(args.redis_url, socket_connect_timeout=2)
    redis.ping()
    postgres = (postgres_facts(args.postgres)
                if any(store.key == "postgresql" for store in args.stores) else None)

    load_before = os.getloadavg()
    started = time.monotonic()
    closed_rows: list[Row] = []
    open_rows: list[Row] = []
    checks: list[Row] = []
    stores: list[StoreCheck] = []
    try:
        with tempfile.TemporaryDirectory(prefix="civicline-bench-") as tmp:
            _run_all(args, settings, Path(tmp), stream, slices, redis, closed_rows, open_rows,
                     checks, stores)
    finally:
        redis.flushdb()
        redis.close()

    print_report(args, settings, closed_rows, open_rows, checks, stores, len(consultations),
                 postgres)
    elapsed = time.monotonic() - started
    load_after = os.getloadavg()
    print(f"\nrun took {elapsed:.0f} s; Python {platform.python_version()}, SQLite "
          f"{sqlite3.sqlite_version}; load average (1 min) {load_before[0]:.2f} before, "
          f"{load_after[0]:.2f} after, on {os.cpu_count()} cores (other processes on the "
          "machine skew the figures)")
    failed = any(r.errors or r.non_2xx for r in closed_rows + open_rows)
    return 1 if failed else 0


def progress(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


def _answered(warm_ok: int, *rows: Row) -> int:
    return warm_ok + sum(n for row in rows for code, n in row.statuses.items()
                         if 200 <= code < 300)


def _run_all(args: argparse.Namespace, settings: WorkerSettings, workdir: Path,
             stream: Sequence[_traffic.Sms], slices: Slices, redis: Redis,
             closed_rows: list[Row], open_rows: list[Row], checks: list[Row],
             stores: list[StoreCheck]) -> None:
    if not args.skip_baseline:
        env = {"TWILIO_AUTH_TOKEN": BENCH_TOKEN}
        with Server("baseline", BASELINE_APP, workdir, settings, env) as server:
            closed, opened, check, _ = measure_app(args, BASELINE, server, workdir,
                                                   stream, slices, client_check=True)
        closed_rows.append(closed)
        open_rows.append(opened)
        if check is not None:
            checks.append(check)

    database = workdir / "one-insert.db"
    env = {"TWILIO_AUTH_TOKEN": BENCH_TOKEN, ONE_INSERT_DATABASE_ENV: str(database)}
    with Server("one-insert", ONE_INSERT_APP, workdir, settings, env) as server:
        closed, opened, _, warm_ok = measure_app(args, ONE_INSERT, server, workdir, stream,
                                                 slices, client_check=False)
    closed_rows.append(closed)
    open_rows.append(opened)
    stores.append(StoreCheck(ONE_INSERT, count_rows(f"sqlite:///{database}", ("messages",)),
                             _answered(warm_ok, closed, opened)))

    for store in args.stores:
        server_name = f"gateway-{store.key}"
        redis.flushdb()
        with store_url(args, store, workdir, server_name) as url:
            env = gateway_env(workdir, server_name, args.flows, args.redis_url,
                              store.synchronous, database_url=url)
            with Server(server_name, GATEWAY_APP, workdir, settings, env) as server:
                closed, opened, _, warm_ok = measure_app(args, store.label, server, workdir,
                                                         stream, slices, client_check=False)
            rows = count_rows(url, GATEWAY_TABLES)
        closed_rows.append(closed)
        open_rows.append(opened)
        stores.append(StoreCheck(store.label, rows, _answered(warm_ok, closed, opened),
                                 int(redis.llen(f"rq:queue:{QUEUE_NAME}"))))
        redis.flushdb()


def main(argv: Sequence[str] | None = None) -> int:
    return run(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
