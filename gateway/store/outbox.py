"""The outbox: response events waiting for the central store, sent oldest first in
batches, marked synced once acknowledged, or quarantined with the centre's reason.

In the local store, because the local store is the record: nothing here depends on Redis
being up. The sync's own state (its lease, last result, the consultations fetched from
the centre) is gateway/store/sync_state.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select, update

from gateway.database import write_transaction
from gateway.store import schema

EVENT_FIELDS = (
    "event_id",
    "consultation_id",
    "question_id",
    "pseudonym",
    "channel",
    "status",
    "value",
    "raw",
    "language",
    "answered_at",
    "region",
)


@dataclass(frozen=True)
class OutboxEvent:
    seq: int
    payload: dict[str, Any]  # what the central store receives, answered_at as ISO 8601


@dataclass(frozen=True)
class QuarantinedEvent:
    seq: int
    event_id: str
    consultation_id: str
    question_id: str
    error: str


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; the store writes UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class OutboxStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- events ---------------------------------------------------------------------------

    def next_batch(self, limit: int) -> list[OutboxEvent]:
        """The oldest unsynced events that are not quarantined."""
        e = schema.events.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(e.seq, *(e[name] for name in EVENT_FIELDS))
                .where(e.synced_at.is_(None), e.sync_error.is_(None))
                .order_by(e.seq)
                .limit(limit)
            ).all()
        batch = []
        for seq, *values in rows:
            payload = dict(zip(EVENT_FIELDS, values, strict=True))
            payload["answered_at"] = _aware(payload["answered_at"]).isoformat()
            batch.append(OutboxEvent(seq, payload))
        return batch

    def mark_synced(self, seqs: Sequence[int], now: datetime) -> int:
        """Mark exactly these events synced (never a seq range: on PostgreSQL a lower seq
        can commit after a higher one, and a range would mark it unsent)."""
        if not seqs:
            return 0
        e = schema.events.c
        with write_transaction(self.engine) as conn:
            return conn.execute(
                update(schema.events)
                .where(e.seq.in_(list(seqs)), e.synced_at.is_(None))
                .values(synced_at=now)
            ).rowcount

    def quarantine(self, reasons: Mapping[int, str]) -> int:
        """Stop sending these events (seq -> reason); they stay in the outbox."""
        e = schema.events.c
        count = 0
        with write_transaction(self.engine) as conn:
            for seq, reason in reasons.items():
                count += conn.execute(
                    update(schema.events)
                    .where(e.seq == seq, e.synced_at.is_(None))
                    .values(sync_error=reason[:2000])
                ).rowcount
        return count

    def release_quarantined(self) -> int:
        """Send quarantined events again (after the centre or the gateway was fixed)."""
        e = schema.events.c
        with write_transaction(self.engine) as conn:
            return conn.execute(
                update(schema.events)
                .where(e.synced_at.is_(None), e.sync_error.is_not(None))
                .values(sync_error=None)
            ).rowcount

    def backlog(self) -> int:
        """Events still to send (quarantined ones not included)."""
        e = schema.events.c
        with self.engine.connect() as conn:
            return conn.execute(
                select(func.count())
                .select_from(schema.events)
                .where(e.synced_at.is_(None), e.sync_error.is_(None))
            ).scalar_one()

    def quarantined(self, limit: int = 20) -> tuple[int, list[QuarantinedEvent]]:
        e = schema.events.c
        where = (e.synced_at.is_(None), e.sync_error.is_not(None))
        with self.engine.connect() as conn:
            total = conn.execute(
                select(func.count()).select_from(schema.events).where(*where)
            ).scalar_one()
            rows = conn.execute(
                select(e.seq, e.event_id, e.consultation_id, e.question_id, e.sync_error)
                .where(*where)
                .order_by(e.seq)
                .limit(limit)
            ).all()
        return total, [QuarantinedEvent(*row) for row in rows]
