"""One sync pass: drain the outbox to the central store in batches, oldest first.

- Events are marked synced only after the centre acknowledged their batch. A pass that
  dies in between (SIGKILL, lost response) leaves them unsynced; they are sent again and
  the centre, keyed on event_id, counts them as already known. At-least-once delivery,
  exactly-once effect.
- Events the centre will not take are quarantined and the rest keep flowing
  (gateway/sync/quarantine.py): one poison event never blocks the outbox.
- With CENTRAL_URL, a pass that delivered fetches the published consultations too
  (gateway/sync/catalog.py).
- On any other failure the pass stops and records when the next attempt is due, as
  gateway/sync/schedule.py decides (a capped, jittered back-off; attempts never stop):
  events wait as long as the centre is away, and logs and status say so.
- One pass at a time per gateway: the sync lease (gateway/sync/lease.py).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.settings import Settings
from gateway.store.outbox import OutboxStore
from gateway.store.outreach import OutreachStore
from gateway.store.sync_state import SyncStateStore
from gateway.sync import schedule
from gateway.sync.catalog import CATALOG_CHECKED, CATALOG_ERROR, refresh_consultations
from gateway.sync.client import (
    BatchRejected,
    BatchTooLarge,
    CentralClient,
    CentralError,
    CentralRefused,
    CentralUnreachable,
)
from gateway.sync.lease import LeaseLost, SyncLease
from gateway.sync.outreach import ProgressReporter, refresh_outreach, report_progress
from gateway.sync.quarantine import hold_back, reasons_from, refused_in

log = logging.getLogger(__name__)


def events(n: int) -> str:
    """`1 event`, `2 events`."""
    return f"{n} event" if n == 1 else f"{n} events"


def events_wait(n: int) -> str:
    """`1 event waits`, `2 events wait`."""
    return f"{events(n)} wait{'s' if n == 1 else ''}"

PASS_BUDGET = 300.0  # a job stops after this long and asks for another (job timeout 600 s)

LAST_SUCCESS = "sync_last_success_at"
LAST_ERROR = "sync_last_error"
LAST_ERROR_AT = "sync_last_error_at"
FAILURES = "sync_failures"
NEXT_ATTEMPT = "sync_next_attempt_at"
LAST_RESULT = "sync_last_result"
STATE_KEYS = (LAST_SUCCESS, LAST_ERROR, LAST_ERROR_AT, FAILURES, NEXT_ATTEMPT, LAST_RESULT,
              CATALOG_ERROR, CATALOG_CHECKED)


@dataclass
class SyncReport:
    outcome: str = "synced"  # synced | waiting (backing off) | busy (another pass) | failed
    sent: int = 0
    new: int = 0
    known: int = 0
    quarantined: int = 0
    backlog: int = 0
    error: str | None = None
    retry_in: float | None = None  # seconds until the next attempt is due
    more: bool = False  # stopped by the time budget with events left
    consultations: str | None = None  # updated | unchanged | refused
    outreach: str | None = None  # updated | unchanged | refused | not offered

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


class Syncer:
    def __init__(
        self,
        settings: Settings,
        outbox: OutboxStore,
        client_factory: Callable[[], CentralClient],
        *,
        refresh_catalog: bool,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.settings = settings
        self.outbox = outbox
        self.sync_state = SyncStateStore(outbox.engine)
        self._client_factory = client_factory
        self._client: CentralClient | None = None
        self.refresh_catalog = refresh_catalog
        self._rand = rand
        self.lease = SyncLease(self.sync_state)
        # Set by the entry points: what this gateway reports about outreach (counts only).
        self.outreach_progress: ProgressReporter | None = None

    @property
    def client(self) -> CentralClient:
        if self._client is None:
            try:
                self._client = self._client_factory()
            except CentralError:
                raise
            except Exception as exc:  # e.g. the embedded centre's database is down
                raise CentralUnreachable(f"central store unavailable: {exc}") from exc
        return self._client

    def close(self) -> None:
        transport = getattr(self._client, "transport", None)
        if transport is not None and hasattr(transport, "close"):
            transport.close()
        self._client = None

    def run(self, *, force: bool = False, budget: float = PASS_BUDGET) -> SyncReport:
        """Sync until the outbox is empty, the time budget is spent, or a failure.

        `force` ignores the back-off delay (an operator's `civicline sync --once`).
        """
        deadline = time.monotonic() + budget
        report = SyncReport()
        while True:
            self._pass(report, force, deadline)
            if report.outcome != "synced" or report.more:
                return report
            # An answer committed while we held the lease may have found it taken and
            # left its wake-up to us: look once more now that the lease is free.
            if not self.outbox.next_batch(1):
                return report

    def _pass(self, report: SyncReport, force: bool, deadline: float) -> None:
        now = datetime.now(UTC)
        state = self.sync_state.state(STATE_KEYS)
        wait = schedule.backing_off(_parse_time(state.get(NEXT_ATTEMPT)), now)
        if not force and wait is not None:
            report.outcome = "waiting"
            report.retry_in = wait
            report.error = state.get(LAST_ERROR)
            report.backlog = self.outbox.backlog()
            return
        held = self.lease.take(now)
        if held is not None:
            report.outcome = "busy"
            report.backlog = self.outbox.backlog()
            log.info("sync: another pass holds the lease (%s pid %d) until %s",
                     held.host, held.pid, held.expires_at.isoformat())
            return
        try:
            self._drain(report, deadline)
            if self.refresh_catalog:
                report.consultations = refresh_consultations(self.client, self.sync_state)
            self._outreach(report)
        except LeaseLost:
            report.outcome = "busy"
        except CentralError as exc:
            self._failed(report, exc, state)
        else:
            report.outcome = "synced"
            self._succeeded(report, state)
        finally:
            self.lease.release()
        report.backlog = self.outbox.backlog()

    def _drain(self, report: SyncReport, deadline: float) -> None:
        client = self.client
        size = max(1, self.settings.sync_batch_size)
        backlog = self.outbox.backlog()
        held_back = self.outbox.quarantined(limit=0)[0]
        reported = held_back  # the quarantine count the centre last stored
        delivered = False
        while True:
            if time.monotonic() > deadline:
                report.more = True
                return
            batch = self.outbox.next_batch(size)
            if not batch:
                break
            self.lease.renew()
            remaining = max(backlog - len(batch), 0)
            try:
                receipt = client.send_events([e.payload for e in batch], remaining, held_back)
            except BatchRejected as rejected:
                count = hold_back(self.outbox, batch, reasons_from(batch, rejected.problems))
                held_back += count
                backlog -= count
                report.quarantined += count
                continue  # nothing of the batch was stored: send the rest again now
            except BatchTooLarge as exc:
                if len(batch) == 1:
                    count = self.outbox.quarantine({batch[0].seq: f"too large to send: {exc}"})
                    held_back += count
                    report.quarantined += count
                    continue
                size = max(1, len(batch) // 2)
                log.warning("sync: %s; sending %d events per batch from now on", exc, size)
                continue
            reported = held_back
            refused = refused_in(batch, receipt.refused)
            if refused:  # first, so that a pass dying in between resends only known events
                count = hold_back(self.outbox, batch, refused)
                held_back += count
                report.quarantined += count
            self.outbox.mark_synced([e.seq for i, e in enumerate(batch) if i not in refused],
                                    datetime.now(UTC))
            delivered = True
            backlog = remaining
            report.sent += len(batch) - len(refused)
            report.new += receipt.new
            report.known += receipt.known
            if receipt.known:
                log.info("sync: the centre already had %d of %d events (a resend after a "
                         "lost acknowledgement); counted once", receipt.known, len(batch))
        if not delivered or held_back != reported:
            # A heartbeat: last contact, and the quarantine count, for the dashboard.
            client.send_events([], 0, held_back)

    def _outreach(self, report: SyncReport) -> None:
        """Fetch the published outreach, then report previews and counts."""
        report.outreach = refresh_outreach(self.client, OutreachStore(self.outbox.engine),
                                           self.sync_state)
        if self.outreach_progress is not None:
            report_progress(self.client, self.outreach_progress, self.sync_state,
                            force=report.outreach == "updated")

    def _failed(self, report: SyncReport, exc: CentralError, state: Mapping[str, str]) -> None:
        now = datetime.now(UTC)
        failures = int(state.get(FAILURES) or 0) + 1
        delay = schedule.backoff_delay(failures, self._rand)
        self.sync_state.set_state(
            {
                FAILURES: str(failures),
                LAST_ERROR: str(exc),
                LAST_ERROR_AT: now.isoformat(),
                NEXT_ATTEMPT: (now + timedelta(seconds=delay)).isoformat(),
            },
            now,
        )
        if isinstance(exc, CentralRefused):
            self.close()  # build the client again next time: a new token, a new session
        waiting = self.outbox.backlog()
        log.warning(
            "sync failed (%d in a row): %s; %s in the outbox, none lost; "
            "next attempt in %.0f s (delays double up to %.0f s, attempts never stop)",
            failures, exc, events_wait(waiting), delay, schedule.BACKOFF_CAP,
        )
        report.outcome = "failed"
        report.error = str(exc)
        report.retry_in = delay

    def _succeeded(self, report: SyncReport, state: Mapping[str, str]) -> None:
        now = datetime.now(UTC)
        failures = int(state.get(FAILURES) or 0)
        if failures:
            log.info("sync: the central store is reachable again after %d failed attempts",
                     failures)
        result = f"sent {report.sent} ({report.new} new, {report.known} already known)"
        if report.quarantined:
            result += f", quarantined {report.quarantined}"
        self.sync_state.set_state(
            {LAST_SUCCESS: now.isoformat(), FAILURES: "0", NEXT_ATTEMPT: "",
             LAST_RESULT: result},
            now,
        )
        if report.sent or report.quarantined:
            log.info("sync: %s", result)
