"""When the next sync attempt runs: the back-off, the sweep and RQ's rounding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.sync.runner import SyncReport
from gateway.sync.schedule import (
    BACKOFF_CAP,
    backing_off,
    backoff_delay,
    next_job_in,
    next_sweep_in,
)


def test_backoff_doubles_is_capped_jittered_and_never_gives_up() -> None:
    low = [backoff_delay(n, lambda: 0.0) for n in range(1, 12)]
    high = [backoff_delay(n, lambda: 1.0) for n in range(1, 12)]
    assert high[:5] == [2.0, 4.0, 8.0, 16.0, 32.0]
    assert low[:3] == [1.0, 2.0, 4.0]
    assert max(high) == BACKOFF_CAP
    assert backoff_delay(10_000, lambda: 1.0) == BACKOFF_CAP  # attempt 10,000 still retries
    assert backoff_delay(10_000, lambda: 0.0) == BACKOFF_CAP / 2


def test_the_back_off_holds_until_the_next_attempt_is_due() -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert backing_off(None, now) is None  # never failed
    assert backing_off(now - timedelta(seconds=1), now) is None
    assert backing_off(now, now) is None  # due now
    assert backing_off(now + timedelta(seconds=90), now) == 90.0


@pytest.mark.parametrize(("report", "wait"), [
    (SyncReport(), 30.0),  # synced: the next sweep
    (SyncReport(more=True), 0.0),  # the time budget ran out with events left: at once
    (SyncReport(more=True, outcome="failed", retry_in=5.0), 0.0),
    (SyncReport(outcome="failed", retry_in=4.0), 4.0),  # a retry due before the sweep
    (SyncReport(outcome="waiting", retry_in=120.0), 30.0),  # the sweep comes first
    (SyncReport(outcome="waiting", retry_in=0.0), 0.1),  # never a busy loop
    (None, 30.0),  # the pass raised
    (True, 30.0),  # a pass that reports nothing of use
])
def test_the_sweep_runs_every_interval_at_once_with_more_and_sooner_for_a_retry(
    report: object, wait: float,
) -> None:
    assert next_sweep_in(report, 30.0) == wait


@pytest.mark.parametrize(("report", "delay"), [
    (SyncReport(more=True), 0.0),
    (SyncReport(outcome="failed", retry_in=2.2), 4.0),  # whole seconds, after it is due
    (SyncReport(outcome="waiting", retry_in=0.1), 2.0),
    (SyncReport(outcome="failed", retry_in=300.0), 301.0),
    (SyncReport(), None),  # synced: the next answer wakes a job
    (SyncReport(outcome="busy"), None),  # another pass holds the lease and carries on
])
def test_rq_runs_the_next_job_now_after_the_retry_is_due_or_not_at_all(
    report: SyncReport, delay: float | None,
) -> None:
    assert next_job_in(report) == delay
