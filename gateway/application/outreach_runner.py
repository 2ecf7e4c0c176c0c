"""Send the outreach that is due from this process (the job, the thread, the command),
and report it to the centre: the preview, the counts and how many answered afterwards
(docs/outreach.md §3), never a number."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Engine

from gateway.application.outreach_audience import resolve
from gateway.application.outreach_scheduling import (
    SWEEP_SECONDS,
    InProcessOutreachScheduler,
    OutreachScheduler,
    RedisOutreachScheduler,
)
from gateway.application.outreach_sending import OutreachRun, SendReport
from gateway.application.rate_limit import LocalRateLimiter, RateLimiter, RedisRateLimiter
from gateway.application.services import Services
from gateway.channels.twilio_messages import OutboundSender, sender_for
from gateway.settings import Settings
from gateway.store.outbound import OutboundStore
from gateway.store.outreach import OutreachStore
from gateway.sync.outreach_definition import OutreachInvalid, parse_outreach
from gateway.sync.trigger import redis_connection

log = logging.getLogger(__name__)

PREVIEWED = ("draft", "started", "paused")  # a cancelled outreach reaches nobody more


def rate_limiter(settings: Settings) -> RateLimiter:
    rates = {"sms": settings.sms_per_second, "voice": settings.calls_per_second}
    if settings.redis_url:
        return RedisRateLimiter(redis_connection(settings.redis_url), settings.gateway_id,
                                rates)
    return LocalRateLimiter(rates)


def outreach_run(services: Services) -> OutreachRun:
    if services.outbound_sender is None:
        services.outbound_sender = sender_for(services.settings)
    if services.rate_limiter is None:
        services.rate_limiter = rate_limiter(services.settings)
    sender: OutboundSender = services.outbound_sender
    return OutreachRun(services.store.engine, services.settings, sender,
                       services.rate_limiter, services.region_prefixes)


def send_outreach(services: Services) -> SendReport:
    """One pass over the outreach that is due; asks for the next when work is left."""
    run = outreach_run(services)
    report = run.run()
    if report.sent or report.failed or report.retrying or report.reconciled:
        log.info("outreach: %s", report.as_dict())
    if services.outreach is not None:
        if report.more:
            services.outreach.notify(1.0)
        elif run.due():
            services.outreach.notify(SWEEP_SECONDS)
    return report


def wake_if_started(engine: Engine, scheduler: OutreachScheduler | None) -> None:
    """Wake the sender when some outreach is started (the sync changed the set)."""
    if scheduler is not None and any(
            cached.status == "started" for cached in OutreachStore(engine).cached()):
        scheduler.notify()


def default_scheduler(services: Services) -> OutreachScheduler:
    """An RQ job with REDIS_URL, else a thread; woken now when outreach is due."""
    scheduler: OutreachScheduler
    settings = services.settings
    if settings.redis_url:
        scheduler = RedisOutreachScheduler(redis_connection(settings.redis_url),
                                           settings.gateway_id)
    else:
        scheduler = InProcessOutreachScheduler(lambda: send_outreach(services))
    if any(cached.status == "started" for cached in OutreachStore(services.store.engine).cached()):
        scheduler.notify()  # outreach left in progress when the gateway last stopped
    return scheduler


def progress_reports(engine: Engine, region_prefixes: dict[str, str]) -> list[dict[str, Any]]:
    """What this gateway reports for each outreach it holds: preview, counts, answered."""
    reports = []
    rows = OutboundStore(engine)
    for cached in OutreachStore(engine).cached():
        try:
            definition = parse_outreach(cached.definition)
        except OutreachInvalid:
            continue  # logged where it is sent; nothing sensible to count
        report: dict[str, Any] = {"id": definition.id, "version": definition.version}
        if definition.status in PREVIEWED:
            report["preview"] = resolve(definition, engine, region_prefixes).preview()
        report["counts"] = rows.counts(definition.id)
        report["answered"] = rows.answered(definition.id, definition.consultation_id)
        reports.append(report)
    return reports
