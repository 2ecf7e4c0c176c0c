"""Outbound messages and calls of outreach: one row per (outreach, recipient, channel).

States: pending -> sending (claimed by one sender, in one transaction) -> sent (the
provider accepted it; provider_sid set) -> delivered | failed; or excluded (opted out,
suppressed) before sending. The UNIQUE constraint makes materialising twice harmless;
the claim makes two workers never send one row both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, and_, exists, func, or_, select, update

from gateway.database import as_utc, insert_ignoring, write_transaction
from gateway.store import schema

_row = schema.outbound_messages.c
_event = schema.events.c


class RowState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    EXCLUDED = "excluded"


STATES = tuple(RowState)
# A row is claimed just before its request, which gives up after REQUEST_TIMEOUT
# (gateway/channels/twilio_messages.py): one claimed longer ago than this died with its
# sender. It is reconciled with Twilio's records before it is sent again.
STALE_CLAIM = timedelta(seconds=60)
CALL_LIFETIME = timedelta(hours=2)  # no outreach call lasts longer
# Where a provider's status may move a row from (never back from a final state). A
# pending row too: a request answered 5xx (so to be retried) that Twilio had accepted
# after all; its callback says so, and the row is not sent again.
_FORWARD = {
    RowState.SENT: (RowState.PENDING, RowState.SENDING),
    RowState.DELIVERED: (RowState.PENDING, RowState.SENDING, RowState.SENT),
    RowState.FAILED: (RowState.PENDING, RowState.SENDING, RowState.SENT),
}


@dataclass(frozen=True)
class OutboundRow:
    id: int
    outreach_id: str
    pseudonym: str
    phone: str
    channel: str
    language: str
    body: str
    state: str
    provider_sid: str | None
    attempts: int


_COLUMNS = (_row.id, _row.outreach_id, _row.pseudonym, _row.phone, _row.channel,
            _row.language, _row.body, _row.state, _row.provider_sid, _row.attempts)


class OutboundStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def materialise(self, rows: Sequence[dict[str, Any]], now: datetime) -> int:
        """Insert pending rows (outreach_id, pseudonym, phone, channel, language, body);
        one already there for its (outreach, recipient, channel) is left as it is."""
        values = [{**r, "state": RowState.PENDING, "attempts": 0, "updated_at": now}
                  for r in rows]
        if not values:
            return 0
        count = select(func.count()).select_from(schema.outbound_messages)
        with write_transaction(self.engine) as conn:
            before = conn.execute(count).scalar_one()
            # (rowcount is no measure here: psycopg's batched inserts do not report it)
            conn.execute(insert_ignoring(conn.dialect.name, schema.outbound_messages), values)
            return int(conn.execute(count).scalar_one() - before)

    def states(self, outreach_id: str) -> dict[tuple[str, str], str]:
        """State per (pseudonym, channel) of this outreach's rows."""
        query = select(_row.pseudonym, _row.channel, _row.state).where(
            _row.outreach_id == outreach_id)
        with self.engine.connect() as conn:
            return {(p, c): s for p, c, s in conn.execute(query)}

    def claim(self, outreach_id: str, channel: str, limit: int,
              now: datetime) -> list[OutboundRow]:
        """Up to `limit` due pending rows, now `sending`, in one transaction."""
        due = (select(_row.id).where(and_(
            _row.outreach_id == outreach_id, _row.channel == channel,
            _row.state == RowState.PENDING,
            or_(_row.next_attempt_at.is_(None), _row.next_attempt_at <= now),
        )).order_by(_row.id).limit(limit))
        with write_transaction(self.engine) as conn:
            if conn.dialect.name == "postgresql":
                due = due.with_for_update(skip_locked=True)
            ids = list(conn.execute(due).scalars())
            if not ids:
                return []
            conn.execute(update(schema.outbound_messages)
                         .where(and_(_row.id.in_(ids), _row.state == RowState.PENDING))
                         .values(state=RowState.SENDING, claimed_at=now,
                                 attempts=_row.attempts + 1, updated_at=now))
            rows = conn.execute(select(*_COLUMNS).where(_row.id.in_(ids)).order_by(_row.id))
            return [OutboundRow(*row) for row in rows]

    def stale(self, outreach_id: str, now: datetime) -> list[tuple[OutboundRow, datetime]]:
        """Rows left in `sending` by a sender that died (claimed before STALE_CLAIM),
        with when they were claimed."""
        query = select(*_COLUMNS, _row.claimed_at).where(and_(
            _row.outreach_id == outreach_id, _row.state == RowState.SENDING,
            _row.claimed_at < now - STALE_CLAIM,
        )).order_by(_row.id)
        with self.engine.connect() as conn:
            return [(OutboundRow(*row[:-1]), as_utc(row[-1]) if row[-1] is not None else now)
                    for row in conn.execute(query)]

    def row(self, row_id: int) -> OutboundRow | None:
        with self.engine.connect() as conn:
            found = conn.execute(select(*_COLUMNS).where(_row.id == row_id)).first()
        return OutboundRow(*found) if found is not None else None

    def _set(self, row_id: int, from_states: Sequence[str], **values: Any) -> bool:
        with write_transaction(self.engine) as conn:
            result = conn.execute(update(schema.outbound_messages)
                                  .where(and_(_row.id == row_id, _row.state.in_(from_states)))
                                  .values(**values))
        return result.rowcount > 0

    def sent(self, row_id: int, provider_sid: str, now: datetime) -> bool:
        return self._set(row_id, (RowState.SENDING,), state=RowState.SENT,
                         provider_sid=provider_sid, sent_at=now, updated_at=now)

    def failed(self, row_id: int, reason: str, now: datetime) -> bool:
        return self._set(row_id, (RowState.SENDING, RowState.PENDING), state=RowState.FAILED,
                         reason=reason, updated_at=now)

    def excluded(self, row_id: int, reason: str, now: datetime) -> bool:
        return self._set(row_id, (RowState.SENDING, RowState.PENDING),
                         state=RowState.EXCLUDED, reason=reason, updated_at=now)

    def retry_at(self, row_id: int, at: datetime, reason: str, now: datetime) -> bool:
        """Back to pending, due at `at` (a 429, a 5xx, a busy line)."""
        return self._set(row_id, (RowState.SENDING, RowState.SENT), state=RowState.PENDING,
                         next_attempt_at=at, reason=reason, claimed_at=None, updated_at=now)

    def provider_status(self, row_id: int, state: RowState, provider_sid: str | None,
                        reason: str | None, now: datetime) -> bool:
        """A status callback's news, moving the row forward only."""
        values: dict[str, Any] = {"state": state, "updated_at": now}
        if provider_sid:
            values["provider_sid"] = provider_sid
        if reason:
            values["reason"] = reason
        if state == RowState.SENT:
            values["sent_at"] = now
        return self._set(row_id, _FORWARD[state], **values)

    def counts(self, outreach_id: str) -> dict[str, int]:
        query = (select(_row.state, func.count()).where(_row.outreach_id == outreach_id)
                 .group_by(_row.state))
        with self.engine.connect() as conn:
            found = {state: count for state, count in conn.execute(query)}
        return {state.value: int(found.get(state.value, 0)) for state in RowState}

    def calls_in_progress(self, now: datetime) -> int:
        """Outreach calls placed and not yet completed (for the concurrent-call cap); a
        call whose final status never came stops counting after CALL_LIFETIME."""
        query = select(func.count()).where(and_(
            _row.channel == "voice", _row.state.in_((RowState.SENDING, RowState.SENT)),
            _row.updated_at > now - CALL_LIFETIME))
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def answered(self, outreach_id: str, consultation_id: str) -> int:
        """Recipients reached by this outreach who answered the consultation afterwards."""
        answer = exists().where(and_(
            _event.pseudonym == _row.pseudonym, _event.consultation_id == consultation_id,
            _event.answered_at >= _row.sent_at,
        ))
        query = select(func.count(func.distinct(_row.pseudonym))).where(and_(
            _row.outreach_id == outreach_id, _row.sent_at.is_not(None), answer))
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def sandbox_messages(self, phone: str | None = None) -> list[tuple[OutboundRow, datetime]]:
        """What the sandbox sender recorded (oldest first), for one number or all."""
        query = select(*_COLUMNS, _row.sent_at).where(_row.provider_sid.like("SB%"))
        if phone is not None:
            query = query.where(_row.phone == phone)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(_row.sent_at, _row.id)).all()
        return [(OutboundRow(*row[:-1]), as_utc(row[-1]) if row[-1] is not None
                 else datetime.now(UTC)) for row in rows]
