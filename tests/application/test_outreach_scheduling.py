"""Where outreach is sent from: one RQ job at a time (real Redis), or a thread."""

from __future__ import annotations

import threading

from redis import Redis
from rq import Queue

from gateway.application.outreach_scheduling import (
    SEND_JOB,
    InProcessOutreachScheduler,
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


def test_the_thread_starts_when_first_woken_and_sends() -> None:
    ran = threading.Event()
    scheduler = InProcessOutreachScheduler(ran.set, interval=60)
    assert not ran.wait(0.2)
    scheduler.notify()
    assert ran.wait(5)


def test_the_thread_survives_a_failed_pass() -> None:
    calls: list[int] = []
    done = threading.Event()

    def send() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database away")
        done.set()

    scheduler = InProcessOutreachScheduler(send, interval=0.1)
    scheduler.notify()
    assert done.wait(5)
