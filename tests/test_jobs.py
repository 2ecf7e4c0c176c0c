"""The RQ jobs (gateway/jobs.py): the sync on a real Redis, the sweep when Redis was down,
and call-back placement building its own services."""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from redis import Redis
from rq import Queue, SimpleWorker
from rq.registry import ScheduledJobRegistry

from gateway.jobs import place_due_callbacks_job
from gateway.sync import runner
from gateway.sync.trigger import QUEUE_NAME, RedisSyncTrigger, pending_key, redis_connection
from tests.conftest import FIXTURE_FLOWS
from tests.live import CIVICLINE, cli_env, free_port, settings_env, wait_until
from tests.loopback_centre import Centre, Gateway, gateway_settings, make_gateway, take_part


@pytest.fixture
def sync_redis_url(redis_url: str) -> str:
    """The test Redis server, one database further along: other suites flush theirs
    and run workers on the same queue name while these tests wait on a scheduled job."""
    parts = urlsplit(redis_url)
    database = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(database + 1) % 16}"))


@pytest.fixture
def redis_client(sync_redis_url: str) -> Iterator[Redis]:
    client = Redis.from_url(sync_redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def redis_gateway(
    database_url: str, centre: Centre, sync_redis_url: str, redis_client: Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Gateway]:
    redis_url = sync_redis_url
    settings = gateway_settings(database_url, centre, "gw-rq", redis_url=redis_url)
    gateway = make_gateway(
        settings, trigger=RedisSyncTrigger(redis_connection(redis_url), "gw-rq")
    )
    # The job reads its settings from the environment, as in the worker process.
    for name, value in settings_env(
        database_url=settings.database_url, central_url=settings.central_url,
        central_token=settings.central_token, gateway_id="gw-rq", redis_url=redis_url,
        pseudonym_key=settings.pseudonym_key,
    ).items():
        monkeypatch.setenv(name, value)
    yield gateway
    gateway.close()


def work(redis_client: Redis) -> None:
    SimpleWorker([Queue(QUEUE_NAME, connection=redis_client)],
                 connection=redis_client).work(burst=True, with_scheduler=True)


def test_the_job_syncs_and_clears_the_pending_flag(
    redis_gateway: Gateway, redis_client: Redis, centre: Centre
) -> None:
    queue = Queue(QUEUE_NAME, connection=redis_client)
    accepted: Counter = Counter()
    for n in range(4):
        accepted += take_part(redis_gateway.client, n)
    assert queue.count == 1  # 20 answers, one wake-up
    assert redis_client.exists(pending_key("gw-rq"))
    work(redis_client)
    assert not redis_client.exists(pending_key("gw-rq"))
    assert centre.total() == 20
    assert centre.tally() == accepted
    assert redis_gateway.unsynced() == 0


def test_a_failed_job_schedules_its_retry_and_answers_wait_for_it(
    redis_gateway: Gateway, redis_client: Redis, centre: Centre
) -> None:
    queue = Queue(QUEUE_NAME, connection=redis_client)
    take_part(redis_gateway.client, 1)
    centre.stop()
    work(redis_client)
    registry = ScheduledJobRegistry(queue=queue)
    assert registry.count == 1
    assert redis_client.exists(pending_key("gw-rq"))  # held until the retry runs
    state = redis_gateway.sync_state.state()
    assert state[runner.FAILURES] == "1"
    assert "cannot reach" in state[runner.LAST_ERROR]
    take_part(redis_gateway.client, 2)  # answers during the back-off enqueue nothing
    assert queue.count == 0
    assert redis_gateway.unsynced() == 10

    centre.start()
    [job_id] = registry.get_job_ids()
    due = registry.get_scheduled_time(job_id)
    wait_until(lambda: time.time() >= due.timestamp(), timeout=10)
    work(redis_client)  # the scheduler enqueues the due retry, the worker runs it
    assert centre.total() == 10
    assert redis_gateway.unsynced() == 0
    assert redis_gateway.sync_state.state()[runner.FAILURES] == "0"


def test_redis_down_during_ingest_then_the_sweep_syncs(
    database_url: str, centre: Centre, redis_client: Redis
) -> None:
    closed = f"redis://127.0.0.1:{free_port()}/0"
    settings = gateway_settings(database_url, centre, "gw-sweep", redis_url=closed)
    gateway = make_gateway(settings, trigger=RedisSyncTrigger(redis_connection(closed),
                                                              "gw-sweep"))
    sweep = None
    try:
        accepted: Counter = Counter()
        started = time.monotonic()
        for n in range(6):
            accepted += take_part(gateway.client, n)  # every webhook answered normally
        assert time.monotonic() - started < 20  # no webhook waited on the dead Redis
        assert gateway.unsynced() == 30
        assert Queue(QUEUE_NAME, connection=redis_client).count == 0
        env = cli_env(settings_env(
            database_url=settings.database_url, central_url=centre.url,
            central_token=settings.central_token, gateway_id="gw-sweep",
            redis_url=closed, sync_interval=0.2, pseudonym_key=settings.pseudonym_key,
        ))
        sweep = subprocess.Popen([CIVICLINE, "sync"], env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        wait_until(lambda: gateway.unsynced() == 0, timeout=30)
        assert centre.total() == 30
        assert centre.tally() == accepted
    finally:
        if sweep is not None:
            sweep.terminate()
            out, _ = sweep.communicate(timeout=20)
            assert "syncing every 0.2 s" in out
        gateway.close()


def test_job_entry_point_builds_its_own_services(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'g.db'}")
    monkeypatch.setenv("CENTRAL_DATABASE_URL", f"sqlite:///{tmp_path / 'c.db'}")
    monkeypatch.setenv("FLOWS_DIR", str(FIXTURE_FLOWS))
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert place_due_callbacks_job() == 0  # nothing due: Twilio is not even configured


def test_the_outreach_job_sends_what_is_due_and_frees_the_next_wake_up(
    redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gateway.application.outreach_scheduling import RedisOutreachScheduler
    from gateway.application.services import open_local_store
    from gateway.jobs import send_outreach_job
    from gateway.settings import Settings
    from gateway.store.outbound import OutboundStore
    from tests.application.outreach_world import KEY, definition, participant, publish

    for name, value in {"DATABASE_URL": f"sqlite:///{tmp_path / 'g.db'}",
                        "CENTRAL_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}",
                        "FLOWS_DIR": str(FIXTURE_FLOWS), "PSEUDONYM_KEY": KEY,
                        "REDIS_URL": redis_url, "GATEWAY_ID": "gw-outreach"}.items():
        monkeypatch.setenv(name, value)
    store = open_local_store(Settings.from_env())
    participant(store.engine, "+254711000001")
    publish(store.engine, definition())
    redis = redis_connection(redis_url)
    scheduler = RedisOutreachScheduler(redis, "gw-outreach")
    redis.set(scheduler.key, "1")  # the wake-up that queued this job
    assert send_outreach_job()["sent"] == 1  # the sandbox: no Twilio credentials
    assert OutboundStore(store.engine).counts("o-1")["sent"] == 1
    assert redis.get(scheduler.key) == b"1"  # cleared at start, set again: due, come back
    redis.delete(scheduler.key)
    store.engine.dispose()
