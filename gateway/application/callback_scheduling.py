"""Where call-back placement runs: from an RQ job when Redis is configured (enqueued after
commit, and with `enqueue_in` for spaced retries), else from a thread in this process;
either way a periodic sweep finds rows a lost job left behind, so Redis is a queue, not
the record. What runs is gateway/application/callbacks.py `place_due_callbacks`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue

from gateway.application.background_sweep import BackgroundSweep
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


class InProcessCallbackScheduler(BackgroundSweep):
    """Without Redis: a thread places due call-backs when woken and every SWEEP_SECONDS
    (none runs until a consultation offers a call-back)."""

    def __init__(self, place: Callable[[], object], interval: float = SWEEP_SECONDS) -> None:
        def place_or_say_why() -> None:
            try:
                place()
            except CallPlacementError as exc:  # e.g. not configured: say so, plainly
                log.error("call-backs are waiting but cannot be placed: %s", exc)

        super().__init__(place_or_say_why, name="civicline-callbacks",
                         what="placing call-backs", interval=interval)
