"""RQ job entry points; they run in the worker process and build what they need."""

from __future__ import annotations

import logging

from sqlalchemy import func, select

from gateway.settings import Settings
from gateway.store import schema
from gateway.store.database import make_engine
from gateway.store.local import LocalStore
from gateway.sync.trigger import pending_key, redis_connection

log = logging.getLogger(__name__)


def sync_once(settings: Settings, store: LocalStore) -> int:
    """Count the outbox backlog (the central sync pass replaces this)."""
    with store.engine.connect() as conn:
        backlog = conn.execute(
            select(func.count())
            .select_from(schema.events)
            .where(schema.events.c.synced_at.is_(None))
        ).scalar_one()
    log.info("sync: %d events waiting for gateway %s", backlog, settings.gateway_id)
    return backlog


def sync_outbox_job() -> int:
    settings = Settings.from_env()
    if settings.redis_url:
        redis_connection(settings.redis_url).delete(pending_key(settings.gateway_id))
    store = LocalStore(make_engine(settings.database_url, synchronous=settings.sqlite_synchronous))
    return sync_once(settings, store)
