"""The gateway's SQLite write lock, timed inside gunicorn's workers (bench/sms_webhook.py).

The benchmark's gunicorn config for the gateway imports the two hooks below: each worker
wraps WriterLock.acquire and release (gateway/store/sqlite_lock.py) and, when it exits,
writes one JSON file to LOCK_PROBE_DIR with, per acquisition, the monotonic clock at the
call (comparable across processes), the seconds spent waiting and the seconds held. The
wrapper costs two clock reads and an append per webhook.

Whether the lock limits throughput shows in `held`: the share of a phase's wall time
during which some worker held it. Near 1.0 the webhooks queue on the lock; well below,
the workers are busy elsewhere (CPU, the log's sync after the lock is released).
"""

from __future__ import annotations

import json
import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.off_cpu_cost import SLEEP_ENV, install_sleep_for_sync
from gateway.store import sqlite_lock

ENV = "LOCK_PROBE_DIR"
_records: list[tuple[float, float, float]] = []


def install() -> None:
    lock_class = sqlite_lock.WriterLock
    acquire, release = lock_class.acquire, lock_class.release
    taken: dict[int, tuple[float, float]] = {}

    def timed_acquire(self: sqlite_lock.WriterLock) -> None:
        called = time.monotonic()
        acquire(self)
        taken[id(self)] = (called, time.monotonic())

    def timed_release(self: sqlite_lock.WriterLock) -> None:
        called, got = taken.pop(id(self), (0.0, 0.0))
        released = time.monotonic()
        release(self)
        if got:
            _records.append((called, got - called, released - got))

    lock_class.acquire = timed_acquire  # type: ignore[method-assign]
    lock_class.release = timed_release  # type: ignore[method-assign]


def dump(directory: Path) -> None:
    path = directory / f"lock-{os.getpid()}.json"
    path.write_text(json.dumps(_records), encoding="utf-8")


def post_worker_init(_worker: Any) -> None:  # gunicorn hook
    if os.environ.get(ENV):
        install()
    sleep_us = os.environ.get(SLEEP_ENV)
    if sleep_us:  # bench/sms_webhook.py --sync-as-sleep
        install_sleep_for_sync(float(sleep_us))


def worker_exit(_server: Any, _worker: Any) -> None:  # gunicorn hook
    directory = os.environ.get(ENV)
    if directory:
        dump(Path(directory))


@dataclass(frozen=True)
class LockFigures:
    acquisitions: int
    wait_mean_us: float
    hold_mean_us: float
    hold_p99_us: float
    held: float  # share of the window's wall time the lock was held

    def describe(self) -> str:
        return (f"{self.acquisitions} acquisitions, wait mean {self.wait_mean_us:.0f} µs, "
                f"hold mean {self.hold_mean_us:.0f} µs (p99 {self.hold_p99_us:.0f} µs), "
                f"held {self.held:.2f} of the wall time")


def summarise(directory: Path, window: tuple[float, float]) -> LockFigures | None:
    """The acquisitions made within `window` (monotonic start, end) by every worker."""
    start, end = window
    rows = [
        (wait, hold)
        for path in sorted(directory.glob("lock-*.json"))
        for called, wait, hold in json.loads(path.read_text(encoding="utf-8"))
        if start <= called <= end
    ]
    if not rows or end <= start:
        return None
    holds = sorted(hold for _, hold in rows)
    return LockFigures(
        acquisitions=len(rows),
        wait_mean_us=statistics.mean(wait for wait, _ in rows) * 1e6,
        hold_mean_us=statistics.mean(holds) * 1e6,
        hold_p99_us=holds[int(len(holds) * 0.99)] * 1e6,
        held=sum(holds) / (end - start),
    )
