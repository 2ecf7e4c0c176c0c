"""Where call-backs are placed from: an RQ job (real Redis), or a thread without Redis."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from redis import Redis
from rq import Queue
from rq.registry import ScheduledJobRegistry

from gateway.application.callback_scheduling import (
    PLACE_JOB,
    InProcessCallbackScheduler,
    RedisCallbackScheduler,
)
from gateway.sync.trigger import QUEUE_NAME, redis_connection


def test_redis_scheduler_enqueues_now_and_later(redis_client: Redis, redis_url: str) -> None:
    scheduler = RedisCallbackScheduler(redis_connection(redis_url))
    scheduler.notify()
    queue = Queue(QUEUE_NAME, connection=redis_client)
    [job] = queue.jobs
    assert job.func_name == PLACE_JOB
    scheduler.notify(120)
    registry = ScheduledJobRegistry(queue=queue)
    [scheduled] = registry.get_job_ids()
    when = registry.get_scheduled_time(scheduled)
    assert 100 < (when - datetime.now(UTC)).total_seconds() <= 121


def test_redis_down_does_not_fail_the_webhook() -> None:
    RedisCallbackScheduler(redis_connection("redis://127.0.0.1:1/0")).notify()


def test_in_process_scheduler_starts_on_first_notify_and_runs_the_placer() -> None:
    ran = threading.Event()
    scheduler = InProcessCallbackScheduler(ran.set, interval=60)
    assert not ran.wait(0.2)  # no thread, no sweep, until asked
    scheduler.notify()
    assert ran.wait(5)
    ran.clear()
    scheduler.notify(0.3)  # a retry a little later
    assert ran.wait(5)
