"""Where call-back placement runs: from an RQ job when Redis is configured (enqueued after
commit, and with `enqueue_in` for spaced retries), else from a thread in this process;
either way a periodic sweep finds rows a lost job left behind, so Redis is a queue, not
the record. What runs is gateway/application/callbacks.py `place_due_callbacks`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue

from gateway.channels.twilio_calls import CallPlacementError
from gateway.sync.trigger import QUEUE_NAME

log = logging.getLogger(__name__)

PLACE_JOB = "gateway.jobs.place_due_callbacks_job"
SWEEP_SECONDS = 30.0


class CallbackScheduler(Protocol):
    def notify(self, delay: float = 0.0) -> None:
        """Have place_due_callbacks run in about `delay` seconds."""
        ...


class NoCallbackScheduler:
    """Wakes nothing: for a process that places call-backs itself (the job, the sweep)."""

    def notify(self, delay: float = 0.0) -> None:
        return None


class RedisCallbackScheduler:
    def __init__(self, redis: Redis) -> None:
        self.queue = Queue(QUEUE_NAME, connection=redis)

    def notify(self, delay: float = 0.0) -> None:
        try:
            if delay > 0:
                self.queue.enqueue_in(timedelta(seconds=delay), PLACE_JOB)
            else:
                self.queue.enqueue(PLACE_JOB)
        except RedisError as exc:
            log.warning("call-backs: Redis unavailable (%s); `civicline callbacks place` "
                        "(the sweep) will place them", exc)


class InProcessCallbackScheduler:
    """Without Redis: a thread places due call-backs when woken and every SWEEP_SECONDS.

    The thread starts with the first notify(), so a gateway whose consultations offer no
    call-back runs none.
    """

    def __init__(self, place: Callable[[], object], interval: float = SWEEP_SECONDS) -> None:
        self._place = place
        self._interval = interval
        self._wake_at = time.monotonic() + interval
        self._condition = threading.Condition()
        self._thread: threading.Thread | None = None

    def notify(self, delay: float = 0.0) -> None:
        with self._condition:
            self._wake_at = min(self._wake_at, time.monotonic() + max(delay, 0.0))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="civicline-callbacks",
                                                daemon=True)
                self._thread.start()
            self._condition.notify()

    def _run(self) -> None:
        while True:
            with self._condition:
                while (wait := self._wake_at - time.monotonic()) > 0:
                    self._condition.wait(wait)
                self._wake_at = time.monotonic() + self._interval
            try:
                self._place()
            except CallPlacementError as exc:  # e.g. not configured: say so, plainly
                log.error("call-backs are waiting but cannot be placed: %s", exc)
            except Exception:  # keep the thread alive; the next sweep retries
                log.exception("placing call-backs failed; will retry")
