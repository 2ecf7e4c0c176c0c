"""The sync trigger against a real Redis: one job per burst, and no harm when Redis is down."""

from __future__ import annotations

import threading
import time

from redis import Redis
from rq import Queue

from gateway.sync.trigger import (
    PENDING_MEMO_SECONDS,
    QUEUE_NAME,
    InProcessSyncTrigger,
    RedisSyncTrigger,
    pending_key,
    redis_connection,
)


def test_one_job_while_a_sync_is_pending(redis_client: Redis, redis_url: str) -> None:
    trigger = RedisSyncTrigger(redis_connection(redis_url), "gw-a")
    for _ in range(50):
        trigger.notify()
    queue = Queue(QUEUE_NAME, connection=redis_client)
    assert queue.count == 1
    assert redis_client.ttl(pending_key("gw-a")) > 0
    # The job clears the flag when it starts; the next answer after the short memo of
    # "already pending" enqueues again.
    redis_client.delete(pending_key("gw-a"))
    time.sleep(PENDING_MEMO_SECONDS + 0.05)
    trigger.notify()
    assert queue.count == 2


def test_redis_down_does_not_raise() -> None:
    trigger = RedisSyncTrigger(redis_connection("redis://127.0.0.1:1/0"), "gw-b")
    trigger.notify()
    trigger.notify()  # skipped quickly during the back-off window


def test_in_process_trigger_runs_the_sync() -> None:
    ran = threading.Event()
    trigger = InProcessSyncTrigger(ran.set, interval=60)
    trigger.notify()
    assert ran.wait(5)
