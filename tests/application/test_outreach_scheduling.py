"""Where outreach is sent from: one RQ job at a time (real Redis), or a thread."""

from __future__ import annotations

from redis import Redis
from rq import Queue

from gateway.application.outreach_scheduling import (
    SEND_JOB,
    RedisOutreachScheduler,
)
from gateway.sync.trigger import QUEUE_NAME, redis_connection


def test_one_job_is_queued_until_it_starts(redis_client: Redis, redis_url: str) -> None:
    scheduler = RedisOutreachScheduler(redis_connection(redis_url), "gw")
    scheduler.notify()
    scheduler.notify()  # a second wake-up while one job waits: nothing more
    queue = Queue(QUEUE_NAME, connection=redis_client)
    [job] = queue.jobs
    assert job.func_name == SEND_JOB
    scheduler.started()
    scheduler.notify()
    assert len(queue.jobs) == 2


def test_redis_down_is_said_not_raised() -> None:
    RedisOutreachScheduler(redis_connection("redis://127.0.0.1:1/0"), "gw").notify()
