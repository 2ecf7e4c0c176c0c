"""Where call-backs are placed from: an RQ job (real Redis), or a thread without Redis."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import pytest
from redis import Redis
from rq import Queue
from rq.registry import ScheduledJobRegistry

from gateway.application.callback_scheduling import (
    PLACE_JOB,
    InProcessCallbackScheduler,
    RedisCallbackScheduler,
)
from gateway.channels.twilio_calls import CallPlacementError
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


def test_in_process_placement_that_is_not_configured_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def place() -> None:
        raise CallPlacementError("set TWILIO_ACCOUNT_SID")

    said = "call-backs are waiting but cannot be placed: set TWILIO_ACCOUNT_SID"
    with caplog.at_level(logging.ERROR):
        InProcessCallbackScheduler(place, interval=60).notify()
        deadline = time.monotonic() + 5
        while said not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
    assert said in caplog.text
    assert "Traceback" not in caplog.text  # plainly, not as a crash
