"""What a gateway process holds: settings, store, consultations, sync trigger."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from gateway.catalog_source import CatalogSource, StaticCatalog
from gateway.regions import load_region_prefixes
from gateway.settings import Settings
from gateway.store.database import make_engine
from gateway.store.local import LocalStore
from gateway.sync.jobs import sync_once
from gateway.sync.trigger import (
    InProcessSyncTrigger,
    RedisSyncTrigger,
    SyncTrigger,
    redis_connection,
)

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    store: LocalStore
    catalog: CatalogSource
    trigger: SyncTrigger
    region_prefixes: dict[str, str] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)


def build_services(
    settings: Settings,
    *,
    catalog: CatalogSource | None = None,
    trigger: SyncTrigger | None = None,
) -> Services:
    store = LocalStore(make_engine(settings.database_url, synchronous=settings.sqlite_synchronous))
    store.create_schema()
    if catalog is None:
        catalog = StaticCatalog.from_dir(settings.flows_dir)
    if trigger is None:
        if settings.redis_url:
            trigger = RedisSyncTrigger(redis_connection(settings.redis_url), settings.gateway_id)
        else:
            trigger = InProcessSyncTrigger(
                lambda: sync_once(settings, store), settings.sync_interval
            )
    return Services(
        settings=settings,
        store=store,
        catalog=catalog,
        trigger=trigger,
        region_prefixes=load_region_prefixes(settings.regions_file),
    )
