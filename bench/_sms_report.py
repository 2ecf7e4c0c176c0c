"""The SMS bench's results: one row per app and measurement, and the report printed from them."""

from __future__ import annotations

import argparse
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench import _client, _wrk
from bench._servers import WorkerSettings
from bench._sms_stores import STORES

BASELINE = "baseline"
ONE_INSERT = "one-insert FULL"
FULL_TO_ONE_INSERT_TARGET = 0.6  # gateway on SQLite FULL, req/s over the one-insert app's


@dataclass
class Row:
    """One line of a result table."""

    name: str
    tool: str
    completed: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0
    replies: int = 0
    lag_p99_ms: float | None = None  # open loop: how late the client sent, p99
    server_cores: float = 0.0  # gunicorn master + workers CPU seconds per second
    client_cores: float = 0.0  # load generator CPU seconds per second
    unsent: int = 0  # open loop: dropped, the schedule being too far behind

    @property
    def rate(self) -> float:
        return self.completed / self.seconds if self.seconds > 0 else 0.0

    @property
    def non_2xx(self) -> int:
        return sum(n for code, n in self.statuses.items() if not 200 <= code < 300)


@dataclass
class StoreCheck:
    name: str
    rows: dict[str, int]  # table -> rows after the run
    answered: int  # 2xx responses over warm-up, (a) and (b)
    rq_jobs: int | None = None  # the gateway's sync jobs left in Redis


def client_row(name: str, result: _client.Result, tool: str = "python") -> Row:
    lat = result.latencies
    lost = result.unsent + sum(result.errors.values())  # never answered: infinite latency
    return Row(
        name=name, tool=tool, completed=result.completed, seconds=result.elapsed,
        p50_ms=_client.percentile(lat, 50, lost) * 1000,
        p99_ms=_client.percentile(lat, 99, lost) * 1000,
        max_ms=(math.inf if lost else max(lat, default=0.0)) * 1000, statuses=result.statuses,
        errors=sum(result.errors.values()), replies=result.replies,
        lag_p99_ms=_client.percentile(result.lags, 99) * 1000 if result.lags else None,
        unsent=result.unsent,
    )


def wrk_row(name: str, result: _wrk.WrkResult) -> Row:
    return Row(
        name=name, tool="wrk", completed=result.completed, seconds=result.seconds,
        p50_ms=result.p50_ms, p99_ms=result.p99_ms, max_ms=result.max_ms,
        statuses=result.statuses, errors=sum(result.errors.values()), replies=result.replies,
    )


def _fmt_statuses(row: Row) -> str:
    bad = {code: n for code, n in sorted(row.statuses.items()) if not 200 <= code < 300}
    text = " ".join(f"{code}x{n}" for code, n in bad.items()) or "0"
    return text + (f" err{row.errors}" if row.errors else "")


def _ratio(row: Row, floor: Row | None) -> str:
    return f"{row.rate / floor.rate:.2f}" if floor is not None and floor.rate else "-"


def print_report(args: argparse.Namespace, settings: WorkerSettings, closed: Sequence[Row],
                 opened: Sequence[Row], checks: Sequence[Row], stores: Sequence[StoreCheck],
                 consultations: int, postgres: str | None) -> None:
    baseline = next((r for r in closed if r.name == BASELINE), None)
    one_insert = next((r for r in closed if r.name == ONE_INSERT), None)
    tool = f"wrk -t{args.wrk_threads}" if args.tool == "wrk" else "python client"
    width = max(len(r.name) for r in closed)
    _print_setup(args, settings, consultations, postgres)
    print()
    _print_closed(args, closed, tool, width, baseline, one_insert)
    print()
    _print_open(args, opened, width)
    _print_targets(args, closed, opened, one_insert)
    if checks:
        print()
        _print_client_checks(args, checks, opened, tool, baseline)
    if stores:
        print()
        _print_stores(stores)


def _print_setup(args: argparse.Namespace, settings: WorkerSettings, consultations: int,
                 postgres: str | None) -> None:
    print(f"CivicLine SMS webhook benchmark: {settings.describe()} for every app "
          f"(timeouts/keepalive of config/gunicorn.conf.py, access log off, max_requests off)")
    print(f"traffic: the same signed Twilio webhooks to every app, from distinct participants, "
          f"{consultations} open consultation(s) in {args.flows}; {args.warmup} warm-up "
          "requests per app first")
    print("apps: baseline = signature check + constant TwiML; one-insert FULL = the same check, "
          "then one row (MessageSid, From, Body, time) INSERT OR IGNORE'd and committed into "
          "SQLite (WAL, synchronous=FULL) before the same TwiML")
    for store in args.stores:
        if store.key == "postgresql":
            print(f"{store.label}: the gateway's local store in a fresh schema (dropped after), "
                  f"synchronous_commit=on, on {postgres}; the central store the gateway "
                  "embeds stays on SQLite (FULL) in the temp dir")
        else:
            print(f"{store.label}: a fresh SQLite file (WAL), SQLITE_SYNCHRONOUS="
                  f"{store.synchronous} for it and for the embedded central store's file")
    print("each app first answered 403 to a webhook altered after signing: checks are on")
    print("columns: replies = answers carrying an SMS reply; srv/gen CPU = cores used by "
          "gunicorn / by the load generator")


def _print_closed(args: argparse.Namespace, closed: Sequence[Row], tool: str, width: int,
                  baseline: Row | None, one_insert: Row | None) -> None:
    print(f"(a) closed loop, {args.concurrency} connections, {tool}, "
          f"{args.requests} requests or {args.duration} s per app, whichever comes first")
    header = (f"{'app':<{width}} {'requests':>8} {'secs':>5} {'req/s':>7} {'p50 ms':>7} "
              f"{'p99 ms':>7} {'max ms':>7} {'replies':>7} {'non-2xx':>7} {'srv CPU':>7} "
              f"{'gen CPU':>7} {'/base':>5} {'/1-ins':>6}")
    print(header)
    print("-" * len(header))
    for row in closed:
        print(f"{row.name:<{width}} {row.completed:>8} {row.seconds:>5.1f} {row.rate:>7.0f} "
              f"{row.p50_ms:>7.1f} {row.p99_ms:>7.1f} {row.max_ms:>7.1f} {row.replies:>7} "
              f"{_fmt_statuses(row):>7} {row.server_cores:>7.2f} {row.client_cores:>7.2f} "
              f"{_ratio(row, baseline):>5} {_ratio(row, one_insert):>6}")
    print("/base, /1-ins = the app's req/s over the baseline's, over the one-insert app's "
          "(same run)")


def _print_open(args: argparse.Namespace, opened: Sequence[Row], width: int) -> None:
    target = format(args.target_p99, "g")
    print(f"(b) open loop, {args.rate:g} req/s for {args.rate_duration:g} s, python client "
          f"({args.open_connections} connections), latency from each request's scheduled "
          f"time")
    header = (f"{'app':<{width}} {'answered':>8} {'unsent':>6} {'req/s':>6} {'p50 ms':>7} "
              f"{'p99 ms':>7} {'max ms':>7} {'lag p99':>7} {'replies':>7} {'non-2xx':>7} "
              f"{'srv CPU':>7} {'gen CPU':>7} {'p99<' + target + 'ms':>8}")
    print(header)
    print("-" * len(header))
    for row in opened:
        verdict = "yes" if row.p99_ms < args.target_p99 else "NO"
        lag = f"{row.lag_p99_ms:.1f}" if row.lag_p99_ms is not None else "-"
        print(f"{row.name:<{width}} {row.completed:>8} {row.unsent:>6} {row.rate:>6.1f} "
              f"{row.p50_ms:>7.1f} {row.p99_ms:>7.1f} {row.max_ms:>7.1f} {lag:>7} "
              f"{row.replies:>7} {_fmt_statuses(row):>7} {row.server_cores:>7.2f} "
              f"{row.client_cores:>7.2f} {verdict:>8}")
    print("lag p99 = how late the client sent, in ms; it grows only when every client "
          "connection is waiting on a saturated server (the latency still counts from the "
          f"scheduled time); unsent = still unsent {args.grace:g} s after the schedule ended, "
          "dropped and counted as infinite latency")


def _print_targets(args: argparse.Namespace, closed: Sequence[Row], opened: Sequence[Row],
                   one_insert: Row | None) -> None:
    gateway_open = [r for r in opened if r.name.startswith("gateway ")]
    print()
    print("targets (this run only; a figure moves between runs):")
    if gateway_open:
        each = "; ".join(f"{r.name} {r.p99_ms:.1f} ms "
                         f"{'yes' if r.p99_ms < args.target_p99 else 'NO'}"
                         for r in gateway_open)
        print(f"  p99 < {args.target_p99:g} ms at {args.rate:g} req/s on every store: {each}")
    full = next((r for r in closed if r.name == STORES[0].label), None)
    if full is not None and one_insert is not None and one_insert.rate:
        ratio = full.rate / one_insert.rate
        print(f"  {full.name} >= {FULL_TO_ONE_INSERT_TARGET:g} x the one-insert app's req/s: "
              f"{ratio:.2f} {'yes' if ratio >= FULL_TO_ONE_INSERT_TARGET else 'NO'}")


def _print_client_checks(args: argparse.Namespace, checks: Sequence[Row], opened: Sequence[Row],
                         tool: str, baseline: Row | None) -> None:
    print("load generator check, against the baseline:")
    for row in checks:
        reached = f"; {tool} reached {baseline.rate:.0f} req/s in (a)" if baseline else ""
        print(f"  python client flat out, {args.concurrency} connections: {row.rate:.0f} "
              f"req/s, p99 {row.p99_ms:.1f} ms, {row.client_cores:.2f} cores{reached}")
    base_open = next((r for r in opened if r.name == BASELINE), None)
    if base_open is not None:
        print(f"  python client open loop at {args.rate:g} req/s: p99 {base_open.p99_ms:.1f}"
              f" ms, send lag p99 {base_open.lag_p99_ms or 0:.1f} ms, "
              f"{base_open.client_cores:.2f} cores")


def _print_stores(stores: Sequence[StoreCheck]) -> None:
    print("rows in each store after its run (warm-up + (a) + (b); retries add no row; "
          "requests in flight when wrk stops add rows):")
    for st in stores:
        rows = ", ".join(f"{n} {table}" for table, n in st.rows.items())
        jobs = f", {st.rq_jobs} RQ sync job(s) enqueued" if st.rq_jobs is not None else ""
        print(f"  {st.name}: {rows}; {st.answered} 2xx responses counted{jobs}")
