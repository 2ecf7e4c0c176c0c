"""Where call-backs are placed from: an RQ job (real Redis), or a thread without Redis."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue
from rq.registry import ScheduledJobRegistry

from gateway.app import build_services
from gateway.application.callback_scheduling import (
    PLACE_JOB,
    InProcessCallbackScheduler,
    RedisCallbackScheduler,
)
from gateway.application.callbacks import default_scheduler, place_due_callbacks
from gateway.jobs import place_due_callbacks_job
from gateway.privacy import pseudonym
from gateway.settings import Settings
from gateway.store.calls import CallsTx
from gateway.sync.trigger import QUEUE_NAME, redis_connection
from tests.conftest import (
    FIXTURE_FLOWS,
    RecordingCallPlacer,
    RecordingScheduler,
    RecordingTrigger,
)


def local_settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'g.db'}",
                    central_database_url=f"sqlite:///{tmp_path / 'c.db'}",
                    flows_dir=FIXTURE_FLOWS)


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


def test_default_scheduler_follows_redis_url(tmp_path: Path, redis_url: str) -> None:
    settings = local_settings(tmp_path)
    without = build_services(settings, trigger=RecordingTrigger())
    assert isinstance(without.callbacks, InProcessCallbackScheduler)
    with_redis = build_services(settings.with_overrides(redis_url=redis_url),
                                trigger=RecordingTrigger())
    assert isinstance(with_redis.callbacks, RedisCallbackScheduler)
    assert isinstance(default_scheduler(with_redis), RedisCallbackScheduler)


def test_in_process_gateway_places_waiting_call_backs_at_start(tmp_path: Path) -> None:
    """Call-backs requested before a restart are placed by the next process."""
    settings = local_settings(tmp_path).with_overrides(
        public_base_url="https://ivr.example.org", twilio_from_number="+254700000009")
    first = build_services(settings, trigger=RecordingTrigger(), callbacks=RecordingScheduler())
    now = datetime.now(UTC)
    with first.store.participant(pseudonym("k", "+254712345678"), "+254712345678", now) as tx:
        CallsTx(tx).request_callback("+254712345678", "water-test", now)
    placer = RecordingCallPlacer()
    placed = threading.Event()
    original = placer.place_call

    def place_call(**kwargs: str) -> str:
        sid = original(**kwargs)
        placed.set()
        return sid

    placer.place_call = place_call  # type: ignore[method-assign]
    restarted = build_services(settings, trigger=RecordingTrigger(), call_placer=placer)
    assert isinstance(restarted.callbacks, InProcessCallbackScheduler)
    assert placed.wait(5)
    assert placer.placed[0]["to"] == "+254712345678"


def test_job_entry_point_builds_its_own_services(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'g.db'}")
    monkeypatch.setenv("CENTRAL_DATABASE_URL", f"sqlite:///{tmp_path / 'c.db'}")
    monkeypatch.setenv("FLOWS_DIR", str(FIXTURE_FLOWS))
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert place_due_callbacks_job() == 0  # nothing due: Twilio is not even configured


def test_nothing_due_needs_no_placer(tmp_path: Path) -> None:
    settings = local_settings(tmp_path)
    services = build_services(settings, trigger=RecordingTrigger(),
                              callbacks=RecordingScheduler())
    assert place_due_callbacks(services) == 0
    assert services.call_placer is None



def test_redis_gateway_enqueues_waiting_call_backs_at_start(
    tmp_path: Path, redis_client: Redis, redis_url: str
) -> None:
    settings = local_settings(tmp_path).with_overrides(redis_url=redis_url)
    first = build_services(settings, trigger=RecordingTrigger(), callbacks=RecordingScheduler())
    queue = Queue(QUEUE_NAME, connection=redis_client)
    build_services(settings, trigger=RecordingTrigger())
    assert queue.count == 0  # nothing waiting, nothing enqueued
    now = datetime.now(UTC)
    with first.store.participant(pseudonym("k", "+254712345678"), "+254712345678", now) as tx:
        CallsTx(tx).request_callback("+254712345678", "water-test", now)
    build_services(settings, trigger=RecordingTrigger())
    assert [job.func_name for job in queue.jobs] == [PLACE_JOB]
