"""Wake the sync worker after a commit, cheaply, and never at the cost of a reply.

One RQ job per answer would cap the gateway at the worker's job rate; instead one
flag in Redis says "a sync is pending" and a job is enqueued only when the flag was
not already set. The job clears the flag when it starts, so answers that arrive
during a sync wake the next one; after its pass, the job enqueues what follows
(`follow_up`, when gateway/sync/schedule.py says so). If Redis is down the events stay
in the outbox and the periodic sweep finds them. Without Redis, a thread in the process
syncs (InProcessSyncTrigger).
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

from gateway.sync import schedule
from gateway.sync.schedule import PassResult

log = logging.getLogger(__name__)

SYNC_JOB = "gateway.jobs.sync_outbox_job"
QUEUE_NAME = "civicline"
PENDING_TTL_SECONDS = 600  # a lost job cannot block syncs for longer than this
REDIS_RETRY_AFTER_SECONDS = 5.0  # after a Redis failure, skip it for this long
# After finding the flag already set, skip the round trip for this long: under load it
# saves one Redis command per answer; an answer missed here is synced by the next wake
# or the sweep, never lost.
PENDING_MEMO_SECONDS = 0.25


class SyncTrigger(Protocol):
    def notify(self) -> None: ...


def pending_key(gateway_id: str) -> str:
    return f"civicline:{gateway_id}:sync-pending"


class RedisSyncTrigger:
    def __init__(self, redis: Redis, gateway_id: str) -> None:
        self.redis = redis
        self.queue = Queue(QUEUE_NAME, connection=redis)
        self.key = pending_key(gateway_id)
        self._skip_until = 0.0

    def notify(self) -> None:
        if time.monotonic() < self._skip_until:
            return
        try:
            if self.redis.set(self.key, "1", nx=True, ex=PENDING_TTL_SECONDS):
                self.queue.enqueue(SYNC_JOB, job_timeout=PENDING_TTL_SECONDS)
            else:
                self._skip_until = time.monotonic() + PENDING_MEMO_SECONDS
        except RedisError as exc:
            self._skip_until = time.monotonic() + REDIS_RETRY_AFTER_SECONDS
            log.warning("sync trigger: Redis unavailable (%s); the sweep will sync later", exc)


class NoSyncTrigger:
    """Wakes nothing: for a process that only checks its configuration (pre-fork)."""

    def notify(self) -> None:
        return None


class InProcessSyncTrigger:
    """Without Redis: a background thread runs the sync pass when woken, and at least
    every `interval` seconds as the sweep. It runs once at start, for events left by
    the previous run, and sooner than `interval` when a back-off retry is due."""

    def __init__(self, sync: Callable[[], object], interval: float) -> None:
        self._sync = sync
        self._interval = interval
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="civicline-sync", daemon=True)
        self._thread.start()

    def notify(self) -> None:
        self._wake.set()

    def close(self, timeout: float = 10.0) -> None:
        """Stop the thread after the pass in progress, if any."""
        self._stopped.set()
        self._wake.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        wait = 0.0
        while not self._stopped.is_set():
            self._wake.wait(wait)
            self._wake.clear()
            if self._stopped.is_set():
                return
            try:
                result = self._sync()
            except Exception:  # keep the thread alive; the next wake retries
                log.exception("in-process sync failed; will retry")
                result = None
            wait = schedule.next_sweep_in(result, self._interval)


def redis_connection(url: str) -> Redis:
    """A client that fails fast: a webhook must not hang on an unreachable Redis."""
    return Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=1.0)


def follow_up(redis: Redis, gateway_id: str, report: PassResult) -> None:
    """Schedule the retry after a failure, or the next job when the budget ran out.

    The pending flag stays set until the retry runs, so answers arriving meanwhile do
    not enqueue jobs that would only find the back-off in force.
    """
    delay = schedule.next_job_in(report)
    if delay is None:
        return
    queue = Queue(QUEUE_NAME, connection=redis)
    key = pending_key(gateway_id)
    try:
        if delay == 0:
            if redis.set(key, "1", nx=True, ex=PENDING_TTL_SECONDS):
                queue.enqueue(SYNC_JOB, job_timeout=PENDING_TTL_SECONDS)
        elif redis.set(key, "1", nx=True, ex=int(delay) + 60):
            queue.enqueue_in(timedelta(seconds=delay), SYNC_JOB, job_timeout=PENDING_TTL_SECONDS)
            log.info("sync: retry scheduled in %.0f s", delay)
    except RedisError as exc:
        log.warning("sync: cannot schedule the next attempt (%s); the sweep will", exc)
