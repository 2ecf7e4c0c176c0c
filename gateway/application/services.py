"""What a gateway process holds: settings, store, consultations, sync trigger."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gateway.application.catalog_source import CatalogSource, CentralCatalog, StaticCatalog
from gateway.application.regions import load_region_prefixes
from gateway.database import make_engine
from gateway.embedded_centre import EmbeddedCentral
from gateway.settings import Settings
from gateway.store.participants import LocalStore
from gateway.store.sync_state import SyncStateStore
from gateway.sync.jobs import build_syncer
from gateway.sync.runner import Syncer
from gateway.sync.trigger import (
    InProcessSyncTrigger,
    RedisSyncTrigger,
    SyncTrigger,
    redis_connection,
)

if TYPE_CHECKING:
    from gateway.application.callbacks import CallbackScheduler
    from gateway.channels.twilio_calls import CallPlacer

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    store: LocalStore
    catalog: CatalogSource
    trigger: SyncTrigger
    region_prefixes: dict[str, str] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)
    central: EmbeddedCentral | None = None  # the central store in this process (no CENTRAL_URL)
    syncer: Syncer | None = None
    call_placer: CallPlacer | None = None  # None: Twilio's, built when first needed
    callbacks: CallbackScheduler | None = None  # runs callbacks.place_due_callbacks


def build_services(
    settings: Settings,
    *,
    catalog: CatalogSource | None = None,
    trigger: SyncTrigger | None = None,
    call_placer: CallPlacer | None = None,
    callbacks: CallbackScheduler | None = None,
) -> Services:
    store = LocalStore(make_engine(settings.database_url, synchronous=settings.sqlite_synchronous))
    store.create_schema()
    central = None if settings.central_url else EmbeddedCentral(settings)
    if catalog is None:
        if settings.central_url:
            # What the centre published, as last fetched; FLOWS_DIR until the first fetch.
            catalog = CentralCatalog(SyncStateStore(store.engine), settings.flows_dir)
        else:
            catalog = StaticCatalog.from_dir(settings.flows_dir)
    syncer = build_syncer(settings, store, central)
    if trigger is None:
        if settings.redis_url:
            trigger = RedisSyncTrigger(redis_connection(settings.redis_url), settings.gateway_id)
        else:
            trigger = InProcessSyncTrigger(syncer.run, settings.sync_interval)
    services = Services(
        settings=settings,
        store=store,
        catalog=catalog,
        trigger=trigger,
        region_prefixes=load_region_prefixes(settings.regions_file),
        central=central,
        syncer=syncer,
        call_placer=call_placer,
        callbacks=callbacks,
    )
    if services.callbacks is None:
        from gateway.application.callbacks import default_scheduler

        services.callbacks = default_scheduler(services)
    return services
