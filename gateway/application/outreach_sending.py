"""Send the outreach that is due: materialise its rows, then send them in batches.

Exactly once: a row is claimed (pending -> sending) in one transaction before its
request, and its id travels in the status-callback URL. A row found still `sending`
long after its claim belongs to a sender that died, perhaps after Twilio accepted it:
Twilio is asked first (`accepted_since`), and the row is sent again only if it has no
record of it. STOP wins: the opt-out is read again right before each request. Pause and
cancel act at the next batch: the outreach's status is read again before each.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Engine

from gateway.application.outreach_audience import resolve
from gateway.application.rate_limit import RateLimiter
from gateway.channels.twilio_messages import OutboundSender, Refused, RetryLater
from gateway.privacy import mask_number
from gateway.settings import Settings
from gateway.store.audience import AudienceStore
from gateway.store.contacts import SUPPRESSION_CODES, ContactStore
from gateway.store.outbound import OutboundRow, OutboundStore
from gateway.store.outreach import OutreachStore
from gateway.sync.outreach_definition import (
    OutreachDefinition,
    OutreachInvalid,
    parse_outreach,
)

log = logging.getLogger(__name__)

PASS_BUDGET = 300.0  # seconds; a pass with work left asks for another
MAX_SEND_ATTEMPTS = 8  # requests refused with 429 / 5xx before the row fails
BACKOFF_CAP = 300.0  # seconds
OPTED_OUT_CODE = 21610
SANDBOX_BASE_URL = "http://127.0.0.1:8000"
CALL_PLACE_PATIENCE = 5.0  # seconds a pass waits for a call to end when all places are taken
CALL_PLACE_POLL = 0.2


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    excluded: int = 0
    retrying: int = 0
    reconciled: int = 0
    more: bool = False  # stopped with rows left (budget spent, call cap reached)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def retry_delay(attempts: int, retry_after: float | None) -> float:
    """Seconds before trying a refused (429 / 5xx) request again: Retry-After when Twilio
    gives one, never less than the doubling back-off."""
    backoff = min(2.0 ** max(attempts, 1), BACKOFF_CAP)
    return max(backoff, retry_after or 0.0)


def status_url(base: str, channel: str, row_id: int) -> str:
    if channel == "sms":
        return f"{base}/twilio/status/message?{urlencode({'m': row_id})}"
    return f"{base}/twilio/status/call?{urlencode({'o': row_id})}"


def call_url(base: str, consultation_id: str, row_id: int) -> str:
    """The consultation's voice flow, opening with its language menu."""
    return f"{base}/twilio/voice?{urlencode({'c': consultation_id, 'o': row_id})}"


def definitions(engine: Engine) -> dict[str, OutreachDefinition]:
    """The outreach this gateway holds, as last fetched from the centre, by id."""
    found = {}
    for cached in OutreachStore(engine).cached():
        try:
            found[cached.id] = parse_outreach(cached.definition)
        except OutreachInvalid as exc:
            log.error("outreach: cannot read %s v%d: %s", cached.id, cached.version, exc)
    return found


def due(engine: Engine, now: datetime) -> list[OutreachDefinition]:
    """The outreach to send now: started, inside its window and its hours."""
    return [d for d in definitions(engine).values() if d.sendable(now)]


class OutreachRun:
    def __init__(self, engine: Engine, settings: Settings, sender: OutboundSender,
                 limiter: RateLimiter, region_prefixes: Mapping[str, str],
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.engine = engine
        self.settings = settings
        self.sender = sender
        self.limiter = limiter
        self.region_prefixes = region_prefixes
        self.clock = clock
        self.rows = OutboundStore(engine)
        self.base = (settings.public_base_url or SANDBOX_BASE_URL).rstrip("/")

    def definitions(self) -> dict[str, OutreachDefinition]:
        return definitions(self.engine)

    def due(self) -> list[OutreachDefinition]:
        return due(self.engine, self.clock())

    def run(self, budget: float = PASS_BUDGET) -> SendReport:
        deadline = time.monotonic() + budget
        report = SendReport()
        for definition in self.due():
            self.materialise(definition)
            self.reconcile(definition, report)
            for channel in definition.channels:
                self._send_channel(definition.id, channel, report, deadline)
        return report

    def materialise(self, definition: OutreachDefinition) -> int:
        """A pending row for everyone the outreach reaches and has no row yet."""
        resolution = resolve(definition, self.engine, self.region_prefixes)
        rows = [{"outreach_id": definition.id, "pseudonym": r.pseudonym, "phone": r.phone,
                 "channel": r.channel, "language": r.language, "body": r.body}
                for r in resolution.recipients]
        return self.rows.materialise(rows, self.clock())

    def reconcile(self, definition: OutreachDefinition, report: SendReport) -> None:
        """Rows a dead sender left `sending`: sent if Twilio has them, else pending."""
        now = self.clock()
        for row, claimed_at in self.rows.stale(definition.id, now):
            try:
                sid = self.sender.accepted_since(
                    channel=row.channel, to=row.phone, from_=self.settings.twilio_from_number,
                    since=claimed_at, body=row.body if row.channel == "sms" else None)
            except RetryLater as exc:
                log.warning("outreach: cannot reconcile row %d yet: %s", row.id, exc)
                continue
            if sid is not None:
                self.rows.sent(row.id, sid, now)
                report.reconciled += 1
                log.info("outreach: row %d was accepted as %s before its sender died; "
                         "not sent again", row.id, sid)
            else:
                self.rows.retry_at(row.id, now, "interrupted before Twilio accepted it", now)

    def _send_channel(self, outreach_id: str, channel: str, report: SendReport,
                      deadline: float) -> None:
        """One row claimed at a time, just before its request, once the rate allows it:
        a row is `sending` only while its request is out, so a row found `sending` for
        longer than a request can last (STALE_CLAIM) was left by a sender that died."""
        size = max(1, self.settings.outreach_batch_size)
        while True:
            definition = self.definitions().get(outreach_id)  # paused? cancelled?
            if definition is None or not definition.sendable(self.clock()):
                return
            for _ in range(size):
                if channel == "voice" and not self._a_call_place_frees():
                    report.more = True  # still full: the next pass goes on
                    return
                self.limiter.wait(channel)
                claimed = self.rows.claim(outreach_id, channel, 1, self.clock())
                if not claimed:
                    return
                if self._send_one(definition, claimed[0], report) is not None:
                    return  # Twilio asks to slow down: the rest waits for the next pass
            if time.monotonic() > deadline:
                report.more = True
                return

    def _a_call_place_frees(self, patience: float = CALL_PLACE_PATIENCE) -> bool:
        """Whether fewer than MAX_CONCURRENT_CALLS calls are in progress, waiting up to
        `patience` seconds for a call's final status to free a place."""
        give_up = time.monotonic() + patience
        while (self.rows.calls_in_progress(self.clock())
               >= self.settings.max_concurrent_calls):
            if time.monotonic() >= give_up:
                return False
            time.sleep(CALL_PLACE_POLL)
        return True

    def _blocked(self, row: OutboundRow) -> str | None:
        if AudienceStore(self.engine).opted_out(row.pseudonym):
            return "opted_out"
        return ContactStore(self.engine).suppressions([row.phone]).get(row.phone)

    def _send_one(self, definition: OutreachDefinition, row: OutboundRow,
                  report: SendReport) -> float | None:
        """Send one row; the seconds to wait when Twilio refused it for now."""
        blocked = self._blocked(row)  # a STOP that arrived since the batch was claimed
        if blocked is not None:
            self.rows.excluded(row.id, blocked, self.clock())
            report.excluded += 1
            return None
        try:
            sid = self._request(definition, row)
        except RetryLater as exc:
            return self._retry(row, exc, report)
        except Refused as exc:
            self._refused(row, exc, report)
        else:
            self.rows.sent(row.id, sid, self.clock())
            report.sent += 1
        return None

    def _request(self, definition: OutreachDefinition, row: OutboundRow) -> str:
        callback = status_url(self.base, row.channel, row.id)
        if row.channel == "sms":
            return self.sender.send_sms(to=row.phone, from_=self.settings.twilio_from_number,
                                        body=row.body, status_callback=callback)
        return self.sender.place_call(
            to=row.phone, from_=self.settings.twilio_from_number,
            url=call_url(self.base, definition.consultation_id, row.id),
            status_callback=callback, machine_detection=self.settings.outreach_amd)

    def _retry(self, row: OutboundRow, exc: RetryLater, report: SendReport) -> float:
        now = self.clock()
        delay = retry_delay(row.attempts, exc.retry_after)
        if row.attempts >= MAX_SEND_ATTEMPTS:
            self.rows.failed(row.id, f"gave up after {row.attempts} attempts: {exc}", now)
            report.failed += 1
            return delay
        self.rows.retry_at(row.id, now + timedelta(seconds=delay), str(exc), now)
        report.retrying += 1
        log.warning("outreach: row %d to %s: %s; trying again in %.0f s", row.id,
                    mask_number(row.phone), exc, delay)
        return delay

    def _refused(self, row: OutboundRow, exc: Refused, report: SendReport) -> None:
        now = self.clock()
        if exc.code == OPTED_OUT_CODE:
            AudienceStore(self.engine).opt_out(row.pseudonym, row.phone, now)
        elif exc.code in SUPPRESSION_CODES:
            ContactStore(self.engine).suppress(row.phone, SUPPRESSION_CODES[exc.code], now)
        self.rows.failed(row.id, str(exc), now)
        report.failed += 1
        log.warning("outreach: row %d to %s refused: %s", row.id, mask_number(row.phone), exc)
