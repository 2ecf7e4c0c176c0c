"""RQ job entry points: they run in the worker process and build what they need.

Enqueued by name (gateway/sync/trigger.py SYNC_JOB, gateway/application/
callback_scheduling.py PLACE_JOB); like gateway/app.py and the CLI, an entry point
that assembles the gateway, the embedded centre included when CENTRAL_URL is unset.
"""

from __future__ import annotations

from typing import Any

from gateway.app import build_services, open_syncer
from gateway.application.callback_scheduling import NoCallbackScheduler
from gateway.application.callbacks import place_due_callbacks
from gateway.application.outreach_runner import send_outreach
from gateway.application.outreach_scheduling import RedisOutreachScheduler
from gateway.settings import Settings
from gateway.sync.trigger import follow_up, pending_key, redis_connection


def sync_outbox_job() -> dict[str, Any]:
    settings = Settings.from_env()
    redis = redis_connection(settings.redis_url) if settings.redis_url else None
    if redis is not None:
        # First thing: answers committed from now on wake another job.
        redis.delete(pending_key(settings.gateway_id))
    with open_syncer(settings) as (_, syncer):
        report = syncer.run()
    if redis is not None:
        follow_up(redis, settings.gateway_id, report)
        if report.outreach == "updated":  # perhaps started, paused or cancelled
            RedisOutreachScheduler(redis, settings.gateway_id).notify()
    return report.as_dict()


def place_due_callbacks_job() -> int:
    """Place the call-backs that are due (see gateway/application/callbacks.py)."""
    services = build_services(Settings.from_env(), callbacks=NoCallbackScheduler())
    return place_due_callbacks(services)


def send_outreach_job() -> dict[str, Any]:
    """Send the outreach that is due (see gateway/application/outreach_sending.py); the
    pass enqueues the next while work is left."""
    settings = Settings.from_env()
    scheduler = RedisOutreachScheduler(redis_connection(settings.redis_url),
                                       settings.gateway_id)
    scheduler.started()
    services = build_services(settings, callbacks=NoCallbackScheduler(), outreach=scheduler)
    return send_outreach(services).as_dict()
