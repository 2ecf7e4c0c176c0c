"""RQ job entry points; they run in the worker process and build what they need."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue

from gateway.database import make_engine
from gateway.embedded_centre import EmbeddedCentral
from gateway.settings import Settings
from gateway.store.outbox import OutboxStore
from gateway.store.participants import LocalStore
from gateway.store.sync_state import SyncStateStore
from gateway.sync import schedule
from gateway.sync.client import CentralClient, HttpTransport, WsgiTransport
from gateway.sync.runner import Syncer, SyncReport
from gateway.sync.trigger import (
    PENDING_TTL_SECONDS,
    QUEUE_NAME,
    SYNC_JOB,
    pending_key,
    redis_connection,
)

log = logging.getLogger(__name__)


def build_syncer(
    settings: Settings, store: LocalStore, central: EmbeddedCentral | None = None
) -> Syncer:
    """A sync pass towards CENTRAL_URL, or towards the central store in this process."""
    outbox = OutboxStore(store.engine)
    if settings.central_url:
        def remote() -> CentralClient:
            return CentralClient(HttpTransport(settings.central_url), settings.central_token)

        return Syncer(settings, outbox, remote, refresh_catalog=True)
    embedded = central or EmbeddedCentral(settings)

    def in_process() -> CentralClient:
        token = embedded.gateway_token(SyncStateStore(store.engine))
        return CentralClient(WsgiTransport(embedded.app), token, compress=False)

    # The embedded gateway serves FLOWS_DIR and publishes it at start-up: nothing to fetch.
    return Syncer(settings, outbox, in_process, refresh_catalog=False)


def open_local_store(settings: Settings) -> LocalStore:
    store = LocalStore(make_engine(settings.database_url, synchronous=settings.sqlite_synchronous))
    store.create_schema()
    return store


def sync_outbox_job() -> dict[str, Any]:
    settings = Settings.from_env()
    redis = redis_connection(settings.redis_url) if settings.redis_url else None
    if redis is not None:
        # First thing: answers committed from now on wake another job.
        redis.delete(pending_key(settings.gateway_id))
    store = open_local_store(settings)
    central = None if settings.central_url else EmbeddedCentral(settings)
    syncer = build_syncer(settings, store, central)
    try:
        report = syncer.run()
    finally:
        syncer.close()
        if central is not None:
            central.close()
        store.engine.dispose()
    if redis is not None:
        follow_up(redis, settings.gateway_id, report)
    return report.as_dict()


def follow_up(redis: Redis, gateway_id: str, report: SyncReport) -> None:
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
