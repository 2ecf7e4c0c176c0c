"""Where an SMS webhook's time goes inside `handle_sms`, phase by phase, in one process.

    .venv/bin/python -m bench._phases [--requests 6000] [--warmup 1000]

The SMS benchmark's webhooks through Flask's test client, on fresh stores, with
SQLITE_SYNCHRONOUS=NORMAL and then FULL. Each phase is timed with a wall clock wrapped
around its function: the whole of `handle_sms`, the write transaction's BEGIN IMMEDIATE,
its statements by kind, the commit (the log's pages written, and with FULL their writeback
started), the log's sync (FULL, made at the request's end), the conversation engine
(`advance`), `apply` (which runs the writes), the region lookup and the pseudonym.
Nested phases overlap (`apply` holds the INSERT and UPDATE statements), so the rows do
not add up; the request's own CPU and wall time come first, measured without the probes.

Unlike cProfile (bench/_profile.py), which slows every Python call, this only adds two
clock reads per wrapped call: the figures are close to the unprobed request's.
"""

from __future__ import annotations

import argparse
import functools
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from redis import Redis

from bench._profile import add_store_options, close_app, gateway_app, signed_sms
from bench.request_cost import measure
from gateway import ingest
from gateway.channels import sms
from gateway.store import driver, local

spent: Counter[str] = Counter()


def _timed(label: str | Callable[..., str], function: Callable[..., Any]) -> Callable[..., Any]:
    """`function`, adding its wall time to `spent[label]` (a callable label is given the
    call's arguments)."""

    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            key = label if isinstance(label, str) else label(*args)
            spent[key] += time.perf_counter() - started

    return timed


def _statement_kind(_executor: object, statement: object, _params: object) -> str:
    return f"statement: {type(statement).__name__}"


def install_probes() -> Callable[[], None]:
    """Wrap the phases in this process; returns what undoes it."""
    saved: list[tuple[object, str, object]] = []

    def wrap(owner: object, name: str, label: str) -> None:
        original = getattr(owner, name)
        saved.append((owner, name, original))
        setattr(owner, name, _timed(label, original))

    wrap(sms, "handle_sms", "handle_sms")
    for name in ("pseudonym", "region_for", "advance"):
        wrap(ingest, name, name)
    wrap(local.ParticipantTx, "apply", "apply")
    wrap(driver, "begin_immediate", "BEGIN IMMEDIATE")
    saved.append((driver.DriverExecutor, "execute", driver.DriverExecutor.execute))
    driver.DriverExecutor.execute = _timed(_statement_kind, driver.DriverExecutor.execute)  # type: ignore[method-assign]

    def undo() -> None:
        for owner, name, original in reversed(saved):
            setattr(owner, name, original)

    return undo


def wrap_connection(app: Any) -> Callable[[], None]:
    """Time the commit and the log's sync on the class of the store's connections."""
    pooled = app.extensions["civicline"].store.engine.raw_connection()
    connection_type = type(pooled.driver_connection)
    pooled.close()
    originals = {name: getattr(connection_type, name) for name in ("commit", "sync_log")}
    connection_type.commit = _timed("commit", originals["commit"])
    connection_type.sync_log = _timed("log sync", originals["sync_log"])

    def undo() -> None:
        for name, original in originals.items():
            setattr(connection_type, name, original)

    return undo


def run(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--warmup", type=int, default=1000)
    add_store_options(parser)
    args = parser.parse_args(argv)

    signed = signed_sms(args.flows, args.warmup + 2 * args.requests, seed=11)
    warm, plain = signed[:args.warmup], signed[args.warmup:args.warmup + args.requests]
    probed = signed[args.warmup + args.requests:]
    redis = Redis.from_url(args.redis_url)
    print(f"{args.requests} SMS webhooks after {args.warmup} warm-up, then {args.requests} "
          "more with the probes, one process, Flask test client; µs per webhook")
    try:
        for synchronous in ("NORMAL", "FULL"):
            redis.flushdb()
            with tempfile.TemporaryDirectory(prefix="civicline-phases-") as tmp:
                app = gateway_app(Path(tmp), args.flows, args.redis_url, synchronous)
                try:
                    measure("warm-up", [app], warm, 0)
                    cost = measure("plain", [app], plain, 0)
                    spent.clear()
                    undo = [install_probes(), wrap_connection(app)]
                    try:
                        probed_cost = measure("probed", [app], probed, 0)
                    finally:
                        for step in undo:
                            step()
                finally:
                    close_app(app)
            n = args.requests
            print(f"\nSQLITE_SYNCHRONOUS={synchronous}: request {cost.cpu * 1e6 / n:.1f} CPU, "
                  f"{sum(cost.walls) * 1e6 / n:.1f} wall (with the probes: "
                  f"{sum(probed_cost.walls) * 1e6 / n:.1f} wall)")
            for label, seconds in spent.most_common():
                print(f"  {label:<22} {seconds * 1e6 / n:7.1f}")
    finally:
        redis.flushdb()
        redis.close()


if __name__ == "__main__":
    run()
