"""The thread that runs work when woken and every interval (no Redis)."""

from __future__ import annotations

import logging
import threading

import pytest

from gateway.application.background_sweep import BackgroundSweep


def sweep(work: object, interval: float) -> BackgroundSweep:
    return BackgroundSweep(work, name="test-sweep", what="testing",  # type: ignore[arg-type]
                           interval=interval)


def test_the_thread_starts_when_first_woken_and_runs_the_work() -> None:
    ran = threading.Event()
    scheduler = sweep(ran.set, interval=60)
    assert not ran.wait(0.2)  # no thread, no sweep, until asked
    scheduler.notify()
    assert ran.wait(5)
    ran.clear()
    scheduler.notify(0.3)  # a retry a little later
    assert ran.wait(5)


def test_the_thread_survives_a_failed_run(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []
    done = threading.Event()

    def work() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database away")
        done.set()

    with caplog.at_level(logging.ERROR):
        sweep(work, interval=0.1).notify()
        assert done.wait(5)
    assert "testing failed; will retry" in caplog.text
