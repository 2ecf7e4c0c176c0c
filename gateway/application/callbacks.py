"""Missed-call call-backs: place the calls that are due, and retry the busy ones.

A call-back request is committed in the webhook's transaction (a `callbacks` row). Placing
it is a job: `place_due_callbacks(services)` claims due rows and calls Twilio through the
CallPlacer seam; when to try again after a failed placement or an unanswered call is
gateway/application/rules.py. Where that job runs (an RQ job, or a thread without Redis) is
gateway/application/callback_scheduling.py.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from urllib.parse import urlencode

from gateway.application import rules
from gateway.application.callback_scheduling import (
    CallbackScheduler,
    InProcessCallbackScheduler,
    RedisCallbackScheduler,
)
from gateway.application.services import Services
from gateway.channels.twilio_calls import (
    CallPlacementError,
    CallPlacer,
    TwilioCallPlacer,
    configuration_problem,
)
from gateway.privacy import mask_number
from gateway.store.calls import CallEnd, CallStore
from gateway.sync.trigger import redis_connection

log = logging.getLogger(__name__)

def voice_url(public_base_url: str, consultation_id: str, callback_id: int) -> str:
    query = urlencode({"c": consultation_id, "cb": str(callback_id)})
    return f"{public_base_url.rstrip('/')}/twilio/voice?{query}"


def status_url(public_base_url: str) -> str:
    return f"{public_base_url.rstrip('/')}/twilio/status"


def call_placer(services: Services) -> CallPlacer:
    """The configured placer; Twilio's, built on first use (a clear error if unconfigured)."""
    if services.call_placer is None:
        services.call_placer = TwilioCallPlacer.from_settings(services.settings)
    return services.call_placer


def place_due_callbacks(services: Services, now: datetime | None = None) -> int:
    """Place every call-back that is due; returns how many calls were started."""
    now = now or datetime.now(UTC)
    store = CallStore(services.store.engine)
    if store.due_count(now) == 0:
        return 0
    placer = call_placer(services)  # raises OutboundNotConfigured: rows stay pending
    settings = services.settings
    placed = 0
    for due in store.claim_due(now):
        try:
            call_sid = placer.place_call(
                to=due.phone,
                from_=settings.twilio_from_number,
                url=voice_url(settings.public_base_url, due.consultation_id, due.id),
                status_callback=status_url(settings.public_base_url),
            )
        except CallPlacementError as exc:
            retry_at = rules.placement_retry_at(due.attempts, now)
            log.warning("call-back %d to %s failed (attempt %d): %s%s", due.id,
                        mask_number(due.phone), due.attempts, exc,
                        "" if retry_at else "; giving up")
            store.placement_failed(due.id, str(exc), now, retry_at)
            continue
        store.placed(due.id, call_sid, now)
        placed += 1
        log.info("call-back %d to %s placed as %s (attempt %d)", due.id,
                 mask_number(due.phone), call_sid, due.attempts)
    return placed


def call_ended(services: Services, call_sid: str, call_status: str,
               now: datetime | None = None) -> CallEnd:
    """A final call status: close the call and, for a busy call-back, schedule a retry."""
    now = now or datetime.now(UTC)
    end = CallStore(services.store.engine).call_ended(call_sid, call_status, now,
                                                         rules.retry_delay)
    if end.retry_at is not None and services.callbacks is not None:
        log.info("call-back %s %s; trying again at %s", end.callback_id, call_status,
                 end.retry_at.isoformat(timespec="seconds"))
        services.callbacks.notify((end.retry_at - now).total_seconds())
    return end


def default_scheduler(services: Services) -> CallbackScheduler:
    """An RQ job with REDIS_URL, else a thread; woken now for call-backs left waiting."""
    scheduler: CallbackScheduler
    if services.settings.redis_url:
        scheduler = RedisCallbackScheduler(redis_connection(services.settings.redis_url))
    else:
        scheduler = InProcessCallbackScheduler(lambda: place_due_callbacks(services))
    if CallStore(services.store.engine).open_callbacks() > 0:
        scheduler.notify()  # call-backs left waiting when the gateway last stopped
    return scheduler


def configuration_warnings(services: Services) -> list[str]:
    """Consultations that offer call-backs this gateway cannot place (said at start-up)."""
    offering = [c.id for c in services.catalog.current().consultations if c.voice.callback]
    if not offering or services.call_placer is not None:
        return []
    problem = configuration_problem(services.settings)
    if problem is None:
        return []
    return [f"{', '.join(offering)} offer missed-call call-backs, but {problem}; missed "
            "calls are refused and their call-backs wait"]
