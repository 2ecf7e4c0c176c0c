"""Where outreach is sent from: an RQ job when Redis is configured, else a thread in this
process; either way a sweep comes back while outreach is due, so Redis is a queue, not
the record. What runs is `send_outreach` (gateway/application/outreach_runner.py).
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

from gateway.sync.trigger import QUEUE_NAME

log = logging.getLogger(__name__)

SEND_JOB = "gateway.jobs.send_outreach_job"
SWEEP_SECONDS = 30.0
JOB_TIMEOUT = 600


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
            if not self.redis.set(self.key, "1", nx=True, ex=int(delay) + JOB_TIMEOUT):
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


class InProcessOutreachScheduler:
    """Without Redis: a thread sends due outreach when woken and every SWEEP_SECONDS."""

    def __init__(self, send: Callable[[], object], interval: float = SWEEP_SECONDS) -> None:
        self._send = send
        self._interval = interval
        self._wake_at = time.monotonic() + interval
        self._condition = threading.Condition()
        self._thread: threading.Thread | None = None

    def notify(self, delay: float = 0.0) -> None:
        with self._condition:
            self._wake_at = min(self._wake_at, time.monotonic() + max(delay, 0.0))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="civicline-outreach",
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
                self._send()
            except Exception:  # keep the thread alive; the next sweep retries
                log.exception("sending outreach failed; will retry")
