"""Voice calls and missed-call call-backs in the local store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import (
    ColumnElement,
    Engine,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)

from gateway.consultation.voice_call import CallState
from gateway.database import write_transaction
from gateway.store import schema
from gateway.store.participants import ParticipantTx


class CallStatus(StrEnum):
    ACTIVE = "active"
    FINISHED = "finished"  # reached the end of the consultation
    ENDED = "ended"  # hung up (or dropped) before the end
    REJECTED = "rejected"  # a missed call, refused so that it costs nothing


class CallbackStatus(StrEnum):
    PENDING = "pending"  # to place at next_attempt_at
    PLACING = "placing"  # claimed by one placer
    PLACED = "placed"  # Twilio is ringing the caller; call_sid set
    ANSWERED = "answered"  # the caller picked up
    DONE = "done"
    FAILED = "failed"


OPEN_CALLBACK = (CallbackStatus.PENDING, CallbackStatus.PLACING, CallbackStatus.PLACED)
STALE_CLAIM = timedelta(minutes=10)  # a claim older than this died with its placer


@dataclass(frozen=True)
class StoredCall:
    pseudonym: str
    state: CallState
    status: CallStatus


@dataclass(frozen=True)
class DueCallback:
    id: int
    phone: str
    consultation_id: str
    attempts: int  # including the one just claimed


@dataclass(frozen=True)
class CallEnd:
    """What a final call status changed."""

    callback_id: int | None = None
    retry_at: datetime | None = None  # a call-back to try again then


_call = schema.calls.c

# Voice steps run these inside their participant's write transaction.
SELECT_CALL = select(schema.calls).where(_call.call_sid == bindparam("call_sid"))
UPDATE_CALL = (
    update(schema.calls)
    .where(_call.call_sid == bindparam("b_call_sid"))
    .values(
        consultation_id=bindparam("b_consultation_id"),
        language=bindparam("b_language"),
        position=bindparam("b_position"),
        silences=bindparam("b_silences"),
        invalid_tries=bindparam("b_invalid_tries"),
        step=bindparam("b_step"),
        status=bindparam("b_status"),
        updated_at=bindparam("b_updated_at"),
    )
)
INSERT_CALL = insert(schema.calls)
SELECT_RESUMABLE = (
    select(_call.consultation_id, _call.position)
    .where(
        and_(
            _call.pseudonym == bindparam("pseudonym"),
            _call.call_sid != bindparam("exclude_call"),
            or_(_call.status == str(CallStatus.ACTIVE), _call.status == str(CallStatus.ENDED)),
            _call.consultation_id.is_not(None),
            _call.language.is_not(None),
            _call.updated_at >= bindparam("since"),
        )
    )
    .order_by(_call.updated_at)
)
_callback = schema.callbacks.c
COUNT_CALLBACKS_SINCE = (
    select(func.count())
    .select_from(schema.callbacks)
    .where(and_(_callback.pseudonym == bindparam("pseudonym"),
                _callback.requested_at >= bindparam("since")))
)
SELECT_OPEN_CALLBACK = (
    select(_callback.id)
    .where(and_(_callback.pseudonym == bindparam("pseudonym"),
                or_(*(_callback.status == str(s) for s in OPEN_CALLBACK))))
    .limit(1)
)
INSERT_CALLBACK = insert(schema.callbacks).returning(_callback.id)
MARK_CALLBACK_ANSWERED = (
    update(schema.callbacks)
    .where(and_(_callback.id == bindparam("b_id"), _callback.pseudonym == bindparam("b_pseudonym")))
    .values(status=str(CallbackStatus.ANSWERED), call_sid=bindparam("b_call_sid"),
            updated_at=bindparam("b_now"))
)


class CallsTx:
    """One participant's calls and call-backs, inside their ParticipantTx transaction."""

    def __init__(self, tx: ParticipantTx) -> None:
        self.db = tx.db
        self.pseudonym = tx.pseudonym

    def get(self, call_sid: str) -> StoredCall | None:
        row = self.db.execute(SELECT_CALL, {"call_sid": call_sid}).first()
        if row is None:
            return None
        state = CallState(
            consultation_id=row.consultation_id,
            language=row.language,
            position=row.position,
            silences=row.silences,
            invalid_tries=row.invalid_tries,
            step=row.step,
            finished=row.status in (CallStatus.FINISHED, CallStatus.REJECTED),
        )
        return StoredCall(row.pseudonym, state, CallStatus(row.status))

    def save(self, call_sid: str, state: CallState, status: CallStatus, now: datetime) -> None:
        values = {
            "consultation_id": state.consultation_id,
            "language": state.language,
            "position": state.position,
            "silences": state.silences,
            "invalid_tries": state.invalid_tries,
            "step": state.step,
            "status": str(status),
            "updated_at": now,
        }
        changed = self.db.execute(
            UPDATE_CALL, {"b_call_sid": call_sid, **{f"b_{k}": v for k, v in values.items()}}
        ).rowcount
        if changed == 0:
            self.db.execute(
                INSERT_CALL,
                {"call_sid": call_sid, "pseudonym": self.pseudonym, "started_at": now, **values},
            )

    def resume_positions(self, since: datetime, exclude_call: str) -> dict[str, int]:
        """Per consultation, how far this caller's latest unfinished call since `since` got."""
        params = {"pseudonym": self.pseudonym, "exclude_call": exclude_call, "since": since}
        rows = self.db.execute(SELECT_RESUMABLE, params)
        return {r.consultation_id: r.position for r in rows}  # the latest call wins

    def callbacks_since(self, since: datetime) -> int:
        params = {"pseudonym": self.pseudonym, "since": since}
        return self.db.execute(COUNT_CALLBACKS_SINCE, params).scalar_one()

    def has_open_callback(self) -> bool:
        params = {"pseudonym": self.pseudonym}
        return self.db.execute(SELECT_OPEN_CALLBACK, params).first() is not None

    def request_callback(self, phone: str, consultation_id: str, now: datetime) -> int:
        values = {
            "pseudonym": self.pseudonym,
            "phone": phone,
            "consultation_id": consultation_id,
            "requested_at": now,
            "attempts": 0,
            "status": str(CallbackStatus.PENDING),
            "next_attempt_at": now,
            "updated_at": now,
        }
        return int(self.db.execute(INSERT_CALLBACK, values).scalar_one())

    def callback_answered(self, callback_id: int, call_sid: str, now: datetime) -> None:
        params = {"b_id": callback_id, "b_pseudonym": self.pseudonym, "b_call_sid": call_sid,
                  "b_now": now}
        self.db.execute(MARK_CALLBACK_ANSWERED, params)


class CallStore:
    """Call-back placement and call status callbacks: transactions of their own."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def due_count(self, now: datetime) -> int:
        with write_transaction(self.engine) as conn:
            return conn.execute(
                select(func.count())
                .select_from(schema.callbacks)
                .where(_due(now))
            ).scalar_one()

    def open_callbacks(self) -> int:
        """Call-backs not yet settled (waiting, being placed, or ringing)."""
        c = schema.callbacks.c
        with write_transaction(self.engine) as conn:
            return conn.execute(
                select(func.count())
                .select_from(schema.callbacks)
                .where(c.status.in_(list(OPEN_CALLBACK)))
            ).scalar_one()

    def claim_due(self, now: datetime, limit: int = 20) -> list[DueCallback]:
        """Mark up to `limit` due call-backs as being placed by this caller, and return them.

        The claim is a conditional update, so two sweeps (two processes, or a job and a
        sweep) never place the same call-back twice.
        """
        c = schema.callbacks.c
        claimed = []
        with write_transaction(self.engine) as conn:
            conn.execute(
                update(schema.callbacks)
                .where(and_(c.status == CallbackStatus.PLACING, c.updated_at < now - STALE_CLAIM))
                .values(status=str(CallbackStatus.PENDING), updated_at=now)
            )
            rows = conn.execute(
                select(c.id, c.phone, c.consultation_id, c.attempts)
                .where(_due(now))
                .order_by(c.next_attempt_at, c.id)
                .limit(limit)
            ).all()
            for row in rows:
                won = conn.execute(
                    update(schema.callbacks)
                    .where(and_(c.id == row.id, c.status == CallbackStatus.PENDING))
                    .values(
                        status=str(CallbackStatus.PLACING),
                        attempts=c.attempts + 1,
                        updated_at=now,
                    )
                ).rowcount
                if won == 1:
                    claimed.append(
                        DueCallback(row.id, row.phone, row.consultation_id, row.attempts + 1)
                    )
        return claimed

    def placed(self, callback_id: int, call_sid: str, now: datetime) -> None:
        with write_transaction(self.engine) as conn:
            conn.execute(
                update(schema.callbacks)
                .where(schema.callbacks.c.id == callback_id)
                .values(status=str(CallbackStatus.PLACED), call_sid=call_sid,
                        next_attempt_at=None, updated_at=now)
            )

    def placement_failed(
        self, callback_id: int, error: str, now: datetime, retry_at: datetime | None
    ) -> None:
        status = CallbackStatus.PENDING if retry_at is not None else CallbackStatus.FAILED
        with write_transaction(self.engine) as conn:
            conn.execute(
                update(schema.callbacks)
                .where(schema.callbacks.c.id == callback_id)
                .values(status=str(status), next_attempt_at=retry_at,
                        last_error=error[:500], updated_at=now)
            )

    def call_ended(
        self,
        call_sid: str,
        call_status: str,
        now: datetime,
        retry_delay: Callable[[str, int], timedelta | None],
    ) -> CallEnd:
        """Close the call's session; settle or reschedule the call-back it was, if any.

        `retry_delay(call_status, attempts)` says when to try a call-back again (None:
        never). Only a call-back still waiting for this call's outcome changes, so a
        repeated status callback changes nothing.
        """
        calls = schema.calls.c
        cb = schema.callbacks.c
        with write_transaction(self.engine) as conn:
            conn.execute(
                update(schema.calls)
                .where(and_(calls.call_sid == call_sid, calls.status == CallStatus.ACTIVE))
                .values(status=str(CallStatus.ENDED), updated_at=now)
            )
            conn.execute(
                update(schema.calls)
                .where(and_(calls.call_sid == call_sid, calls.ended_at.is_(None)))
                .values(ended_at=now)
            )
            row = conn.execute(
                select(cb.id, cb.attempts, cb.status).where(
                    and_(
                        cb.call_sid == call_sid,
                        cb.status.in_([CallbackStatus.PLACED, CallbackStatus.ANSWERED]),
                    )
                )
            ).first()
            if row is None:
                return CallEnd()
            answered = row.status == CallbackStatus.ANSWERED or call_status == "completed"
            delay = None if answered else retry_delay(call_status, row.attempts)
            if answered:
                values: dict[str, object] = {"status": str(CallbackStatus.DONE)}
            elif delay is not None:
                values = {"status": str(CallbackStatus.PENDING), "next_attempt_at": now + delay}
            else:
                values = {"status": str(CallbackStatus.FAILED), "last_error": call_status}
            conn.execute(
                update(schema.callbacks)
                .where(cb.id == row.id)
                .values(updated_at=now, **values)
            )
        return CallEnd(row.id, now + delay if delay is not None else None)


def _due(now: datetime) -> ColumnElement[bool]:
    c = schema.callbacks.c
    return and_(c.status == CallbackStatus.PENDING, c.next_attempt_at <= now)
