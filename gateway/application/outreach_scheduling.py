"""Where outreach is sent from: an RQ job when Redis is configured, else a thread in this
process; either way a sweep comes back while outreach is due, so Redis is a queue, not
the record. What runs is `send_outreach` (gateway/application/outreach_runner.py).
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
from gateway.sync.trigger import QUEUE_NAME

log = logging.getLogger(__name__)

SEND_JOB = "gateway.jobs.send_outreach_job"
SWEEP_SECONDS = 30.0
JOB_TIMEOUT = 600
# How long a queued job's flag holds back others: a job lost before it began (its worker
# killed) is replaced at the sweep after this; two jobs at once would only share the rows.
FLAG_SECONDS = 60


class OutreachScheduler(Protocol):
    def notify(self, delay: float = 0.0) -> None:
        """Have the due outreach sent in about `delay` seconds."""
        ...


class NoOutreachScheduler:
    """Wakes nothing: for a process that sends outreach itself (the job)."""

    def notify(self, delay: float = 0.0) -> None:
        return None


class RedisOutreachScheduler:
    def __init__(self, redis: Redis, gateway_id: str) -> None:
        self.redis = redis
        self.queue = Queue(QUEUE_NAME, connection=redis)
        self.key = f"civicline:{gateway_id}:outreach-pending"

    def notify(self, delay: float = 0.0) -> None:
        """One job queued at a time: the flag lives until the job starts (or expires)."""
        try:
            if not self.redis.set(self.key, "1", nx=True, ex=int(delay) + FLAG_SECONDS):
                return
            if delay > 0:
                self.queue.enqueue_in(timedelta(seconds=delay), SEND_JOB,
                                      job_timeout=JOB_TIMEOUT)
            else:
                self.queue.enqueue(SEND_JOB, job_timeout=JOB_TIMEOUT)
        except RedisError as exc:
            log.warning("outreach: Redis unavailable (%s); the next sweep sends", exc)

    def started(self) -> None:
        """The job began: outreach that becomes due from now on wakes another."""
        try:
            self.redis.delete(self.key)
        except RedisError:
            pass


class InProcessOutreachScheduler(BackgroundSweep):
    """Without Redis: a thread sends due outreach when woken and every SWEEP_SECONDS."""

    def __init__(self, send: Callable[[], object], interval: float = SWEEP_SECONDS) -> None:
        super().__init__(send, name="civicline-outreach", what="sending outreach",
                         interval=interval)
