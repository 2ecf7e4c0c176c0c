"""The gateway's local store: participants, inbound log, sessions and the event outbox."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, exists, func, insert, select, update

from gateway.consultation.sms_conversation import ParticipantState, Recorded, SessionState, Step
from gateway.database import as_utc, insert_ignoring, schema_transaction, write_transaction
from gateway.store import schema

_participant = schema.participants.c
_inbound = schema.inbound.c
_session = schema.sessions.c

UPDATE_PARTICIPANT = (
    update(schema.participants)
    .where(_participant.pseudonym == bindparam("b_pseudonym"))
    .values(
        opted_out=bindparam("b_opted_out"),
        language=bindparam("b_language"),
        active_consultation=bindparam("b_active"),
        updated_at=bindparam("b_now"),
    )
)
COUNT_SMS_REPLIES = (
    select(func.count())
    .select_from(schema.inbound)
    .where(
        and_(
            _inbound.pseudonym == bindparam("pseudonym"),
            _inbound.channel == "sms",  # voice steps keep their TwiML, not an SMS
            _inbound.received_at >= bindparam("since"),  # NULL: none counted
            _inbound.reply.is_not(None),
        )
    )
)
# Everything a webhook reads, in one statement: the participant, one row per session
# (NULLs for none), whether this provider id was seen and its reply, and the SMS replies
# since a time. A short statement's fixed cost is most of what it costs, and these were
# four.
SELECT_PARTICIPANT = (
    select(
        _participant.opted_out,
        _participant.language,
        _participant.active_consultation,
        exists().where(_inbound.provider_id == bindparam("provider_id")).label("seen"),
        select(_inbound.reply)
        .where(_inbound.provider_id == bindparam("provider_id"))
        .scalar_subquery()
        .label("previous_reply"),
        COUNT_SMS_REPLIES.scalar_subquery().label("sms_replies"),
        _session.consultation_id,
        _session.language.label("session_language"),
        _session.position,
        _session.invalid_tries,
        _session.completed,
        _session.updated_at.label("session_updated_at"),
    )
    .select_from(
        schema.participants.outerjoin(
            schema.sessions, _session.pseudonym == _participant.pseudonym
        )
    )
    .where(_participant.pseudonym == bindparam("pseudonym"))
)
LOCK_PARTICIPANT = (
    select(_participant.pseudonym)
    .where(_participant.pseudonym == bindparam("pseudonym"))
    .with_for_update()
)
UPDATE_SESSION = (
    update(schema.sessions)
    .where(
        and_(
            _session.pseudonym == bindparam("b_pseudonym"),
            _session.consultation_id == bindparam("b_consultation"),
        )
    )
    .values(
        language=bindparam("b_language"),
        position=bindparam("b_position"),
        invalid_tries=bindparam("b_invalid_tries"),
        completed=bindparam("b_completed"),
        updated_at=bindparam("b_now"),
    )
)
_event = schema.events.c
HAS_EVENT = select(
    exists().where(
        and_(
            _event.pseudonym == bindparam("pseudonym"),
            _event.consultation_id == bindparam("consultation_id"),
            _event.question_id == bindparam("question_id"),
        )
    )
)
INSERT_SESSION = insert(schema.sessions)
INSERT_EVENTS = insert(schema.events)
INSERT_INBOUND = insert(schema.inbound)
EVENT_TEXT_CHARS = 4_096  # = gateway.central.validation.MAX_TEXT_CHARS


@dataclass(frozen=True)
class InboundRecord:
    provider_id: str
    channel: str  # "sms" | "voice"
    received_at: datetime
    reply: str | None


def _storable(text: str | None) -> str | None:
    """What the central store accepts in an event's text (gateway.central.validation):
    no NUL (PostgreSQL cannot hold it) and at most EVENT_TEXT_CHARS characters. A longer
    text can only come from a forged or malformed webhook (an SMS is at most 1,600)."""
    if text is None:
        return None
    return text.replace("\x00", "")[:EVENT_TEXT_CHARS]


class LocalStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create_schema(self) -> None:
        with schema_transaction(self.engine) as conn:
            schema.metadata.create_all(conn)

    @contextmanager
    def participant(
        self,
        pseudonym: str,
        phone: str,
        now: datetime,
        provider_id: str | None = None,
        replies_since: datetime | None = None,
    ) -> Iterator[ParticipantTx]:
        """One transaction holding this participant's row lock until it commits.

        Concurrent webhooks for one number queue here and are applied in turn (SQLite
        serialises whole write transactions; PostgreSQL locks the participant's row).
        `provider_id` is the webhook's (for `previous_reply`); `replies_since` starts the
        count of SMS replies in `sms_replies` (none counted without it).
        """
        add_participant = insert_ignoring(self.engine.dialect.name, schema.participants)
        new = {"pseudonym": pseudonym, "phone": phone, "opted_out": False,
               "created_at": now, "updated_at": now}
        params = {"pseudonym": pseudonym, "provider_id": provider_id, "since": replies_since}
        with write_transaction(self.engine) as db:
            if db.dialect.name == "postgresql":
                # The row lock first: a statement's subqueries read the snapshot taken
                # when it started, before any wait for the lock.
                if db.execute(LOCK_PARTICIPANT, {"pseudonym": pseudonym}).first() is None:
                    db.execute(add_participant, new)
                    db.execute(LOCK_PARTICIPANT, {"pseudonym": pseudonym}).one()
            rows = db.execute(SELECT_PARTICIPANT, params).all()
            if not rows:  # SQLite, whose write lock this transaction holds from its start
                db.execute(add_participant, new)
                rows = db.execute(SELECT_PARTICIPANT, params).all()
            yield ParticipantTx(db, pseudonym, rows)


class ParticipantTx:
    """What one webhook may read and write for one participant, inside its transaction."""

    def __init__(self, db: Connection, pseudonym: str, rows: Sequence[Any]) -> None:
        self.db = db
        self.pseudonym = pseudonym
        self.row = rows[0]  # SELECT_PARTICIPANT's columns
        self._sessions = {
            r.consultation_id: SessionState(
                consultation_id=r.consultation_id,
                language=r.session_language,
                position=r.position,
                invalid_tries=r.invalid_tries,
                completed=r.completed,
            )
            for r in rows
            if r.consultation_id is not None
        }
        self._participant = ParticipantState(
            opted_out=bool(self.row.opted_out),
            language=self.row.language,
            active_consultation=self.row.active_consultation,
        )
        self._session_times = {
            r.consultation_id: as_utc(r.session_updated_at) if r.session_updated_at else None
            for r in rows
            if r.consultation_id is not None
        }

    # --- reads ------------------------------------------------------------------------

    def previous_reply(self) -> tuple[bool, str | None]:
        """(seen, reply) for the provider id the transaction was opened with: a webhook
        retried with the same id gets the same reply."""
        return (bool(self.row.seen), self.row.previous_reply)

    @property
    def sms_replies(self) -> int:
        """SMS replies sent to this participant since the transaction's `replies_since`
        (for the hourly cap)."""
        return int(self.row.sms_replies)

    def state(self) -> ParticipantState:
        """The participant as this transaction has left them so far."""
        return self._participant

    def sessions(self) -> dict[str, SessionState]:
        return dict(self._sessions)

    def positions_since(self, since: datetime) -> dict[str, int]:
        """Per consultation, where this participant is in a session left unfinished and
        last moved (by SMS or by a call) at or after `since`."""
        return {
            cid: s.position
            for cid, s in self._sessions.items()
            if not s.completed and (self._session_times.get(cid) or since) >= since
        }

    # --- writes -----------------------------------------------------------------------

    def apply(self, step: Step, inbound: InboundRecord, region: str | None) -> int:
        """Write the step's state, its response events and the inbound log row.

        Returns how many response events were recorded.
        """
        now = inbound.received_at
        if step.participant != self.state():
            self.save_participant(step.participant, now)
        if step.session is not None:
            self.save_session(step.session, now)
        recorded = step.recorded + tuple(
            r for r in step.unless_answered if not self.has_event(r.consultation_id, r.question_id)
        )
        self.record_events(recorded, inbound.channel, now, region)
        self.log_inbound(inbound)
        return len(recorded)

    def has_event(self, consultation_id: str, question_id: str) -> bool:
        """Whether this participant left any event for the question, by either channel."""
        params = {"pseudonym": self.pseudonym, "consultation_id": consultation_id,
                  "question_id": question_id}
        return bool(self.db.execute(HAS_EVENT, params).scalar_one())

    def save_participant(self, participant: ParticipantState, now: datetime) -> None:
        self.db.execute(
            UPDATE_PARTICIPANT,
            {
                "b_pseudonym": self.pseudonym,
                "b_opted_out": participant.opted_out,
                "b_language": participant.language,
                "b_active": participant.active_consultation,
                "b_now": now,
            },
        )
        self._participant = participant

    def set_language(self, language: str, now: datetime) -> None:
        """Remember the language a caller chose (the voice line's language menu)."""
        self.save_participant(replace(self.state(), language=language), now)

    def save_session(self, session: SessionState, now: datetime) -> None:
        if session.consultation_id in self._sessions:
            self.db.execute(
                UPDATE_SESSION,
                {
                    "b_pseudonym": self.pseudonym,
                    "b_consultation": session.consultation_id,
                    "b_language": session.language,
                    "b_position": session.position,
                    "b_invalid_tries": session.invalid_tries,
                    "b_completed": session.completed,
                    "b_now": now,
                },
            )
        else:
            self.db.execute(
                INSERT_SESSION,
                {
                    "pseudonym": self.pseudonym,
                    "consultation_id": session.consultation_id,
                    "language": session.language,
                    "position": session.position,
                    "invalid_tries": session.invalid_tries,
                    "completed": session.completed,
                    "started_at": now,
                    "updated_at": now,
                },
            )
        self._sessions[session.consultation_id] = session
        self._session_times[session.consultation_id] = now

    def record_events(
        self, recorded: tuple[Recorded, ...], channel: str, now: datetime, region: str | None
    ) -> None:
        if not recorded:
            return
        self.db.execute(
            INSERT_EVENTS,
            [
                {
                    "event_id": str(uuid.uuid4()),
                    "consultation_id": r.consultation_id,
                    "question_id": r.question_id,
                    "pseudonym": self.pseudonym,
                    "channel": channel,
                    "status": str(r.status),
                    "value": _storable(r.value),
                    "raw": _storable(r.raw),
                    "language": r.language,
                    "answered_at": now,
                    "region": region,
                }
                for r in recorded
            ],
        )

    def log_inbound(self, inbound: InboundRecord) -> None:
        self.db.execute(
            INSERT_INBOUND,
            {
                "provider_id": inbound.provider_id,
                "channel": inbound.channel,
                "pseudonym": self.pseudonym,
                "received_at": inbound.received_at,
                "reply": inbound.reply,
            },
        )
