"""What a gateway process holds: settings, store, consultations, the central link, the
sync trigger and the call-back scheduler. The entry points assemble it (gateway/app.py
`build_services`); the use cases read it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gateway.application.callback_scheduling import CallbackScheduler
from gateway.application.catalog_source import CatalogSource
from gateway.application.outreach_scheduling import OutreachScheduler
from gateway.application.rate_limit import RateLimiter
from gateway.database import make_engine
from gateway.settings import Settings
from gateway.store.participants import LocalStore
from gateway.sync.link import CentralLink
from gateway.sync.runner import Syncer
from gateway.sync.trigger import SyncTrigger

if TYPE_CHECKING:
    from gateway.channels.twilio_calls import CallPlacer
    from gateway.channels.twilio_messages import OutboundSender


@dataclass
class Services:
    settings: Settings
    store: LocalStore
    catalog: CatalogSource
    trigger: SyncTrigger
    region_prefixes: dict[str, str] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)
    central: CentralLink | None = None  # the centre the sync reaches (gateway/sync/link.py)
    syncer: Syncer | None = None
    call_placer: CallPlacer | None = None  # None: Twilio's, built when first needed
    callbacks: CallbackScheduler | None = None  # runs callbacks.place_due_callbacks
    outreach: OutreachScheduler | None = None  # runs outreach_runner.send_outreach
    outbound_sender: OutboundSender | None = None  # None: Twilio's, or the sandbox
    rate_limiter: RateLimiter | None = None  # None: built from the settings when needed


def open_local_store(settings: Settings) -> LocalStore:
    """The gateway's local store at DATABASE_URL, its schema created or upgraded."""
    store = LocalStore(make_engine(settings.database_url, synchronous=settings.sqlite_synchronous))
    store.create_schema()
    return store
