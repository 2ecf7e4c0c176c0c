"""When the next sync attempt runs: the one place that decides it.

- After a failure, the back-off: the next attempt waits an exponentially growing,
  jittered delay, capped at BACKOFF_CAP seconds. Attempts themselves never stop: events
  wait as long as the centre is away. The pass records when the next attempt is due, and
  every pass before then (a wake-up, the sweep, another process) only waits.
- The sweep (the in-process sync thread and `civicline sync`): a pass every SYNC_INTERVAL
  seconds, the next one at once when a pass stopped on its time budget with events
  left, and sooner than the interval when a back-off retry is due.
- With RQ: after a job, the next one is enqueued at once (events left), or scheduled for
  the retry (RQ schedules to the whole second), or left to the next answer's wake-up.
  The worker runs RQ's scheduler often enough that a scheduled retry runs on time.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

BACKOFF_BASE = 2.0  # seconds before the first retry
BACKOFF_CAP = 300.0  # the longest wait between attempts; attempts themselves never stop
SWEEP_MIN_WAIT = 0.1  # the sweep never spins on a retry that is already due

# RQ runs its scheduler (which moves jobs queued with enqueue_in, as sync retries are, to
# the queue when due) in a process of its own that exits when Redis goes away. The worker
# starts another only at a maintenance pass: by default every 10 minutes, and not while a
# dequeue blocks (up to worker_ttl - 15 s, 405 s by default). Shortened, a retry scheduled
# after a Redis outage runs within seconds of its time. A pass costs a few Redis commands.
WORKER_TTL_SECONDS = 20  # a dequeue blocks for at most 5 s
MAINTENANCE_SECONDS = 5


class PassResult(Protocol):
    """What a sync pass reports that decides the next one (gateway.sync.runner.SyncReport)."""

    outcome: str
    retry_in: float | None
    more: bool


def backoff_delay(failures: int, rand: Callable[[], float] = random.random) -> float:
    """Seconds before attempt `failures + 1`: doubling from BACKOFF_BASE, capped, jittered
    into [delay/2, delay] so gateways that lost the centre together don't return together."""
    delay = min(BACKOFF_CAP, BACKOFF_BASE * 2.0 ** min(max(failures - 1, 0), 32))
    return delay * (0.5 + 0.5 * rand())


def backing_off(next_attempt: datetime | None, now: datetime) -> float | None:
    """Seconds until the back-off lets the next attempt run; None when it may run now."""
    if next_attempt is None or next_attempt <= now:
        return None
    return (next_attempt - now).total_seconds()


def next_sweep_in(result: object, interval: float) -> float:
    """Seconds before the sweep's next pass, after a pass that reported `result` (None or
    anything without a report's fields, e.g. a pass that raised: the interval)."""
    if getattr(result, "more", False):
        return 0.0
    retry_in = getattr(result, "retry_in", None)
    if isinstance(retry_in, (int, float)):
        return min(interval, max(float(retry_in), SWEEP_MIN_WAIT))
    return interval


def next_job_in(report: PassResult) -> float | None:
    """After an RQ sync job: 0 to enqueue the next job now (the time budget ran out with
    events left), the seconds to schedule the retry in (a failure, or the back-off in
    force), or None (nothing owed: the next answer wakes a job, the sweep catches the rest).
    """
    if report.more:
        return 0.0
    if report.retry_in is not None and report.outcome in ("failed", "waiting"):
        # RQ schedules to the whole second, rounding down: never run before it is due.
        return math.ceil(max(report.retry_in, 0.5)) + 1.0
    return None
