"""The gateway's local store: participants, inbound log, sessions and the event outbox."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, and_, func, insert, select, update

from gateway.consultation.engine import ParticipantState, Recorded, SessionState, Step
from gateway.store import schema
from gateway.store.database import insert_ignoring_conflicts


@dataclass(frozen=True)
class InboundRecord:
    provider_id: str
    channel: str  # "sms" | "voice"
    received_at: datetime
    reply: str | None


class LocalStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create_schema(self) -> None:
        schema.metadata.create_all(self.engine)

    @contextmanager
    def participant(self, pseudonym: str, phone: str, now: datetime) -> Iterator[ParticipantTx]:
        """One transaction holding this participant's row lock until it commits.

        Concurrent webhooks for one number queue here and are applied in turn.
        """
        with self.engine.begin() as conn:
            insert_ignoring_conflicts(
                conn,
                schema.participants,
                [
                    {
                        "pseudonym": pseudonym,
                        "phone": phone,
                        "opted_out": False,
                        "created_at": now,
                        "updated_at": now,
                    }
                ],
            )
            query = select(schema.participants).where(
                schema.participants.c.pseudonym == pseudonym
            )
            if conn.dialect.name == "postgresql":
                query = query.with_for_update()
            row = conn.execute(query).one()
            yield ParticipantTx(conn, pseudonym, row._mapping)


class ParticipantTx:
    """What one webhook may read and write for one participant, inside its transaction."""

    def __init__(self, conn: Connection, pseudonym: str, row: object) -> None:
        self.conn = conn
        self.pseudonym = pseudonym
        self.row = row

    # --- reads ------------------------------------------------------------------------

    def previous_reply(self, provider_id: str) -> tuple[bool, str | None]:
        """(seen, reply): a webhook retried with the same id gets the same reply."""
        row = self.conn.execute(
            select(schema.inbound.c.reply).where(schema.inbound.c.provider_id == provider_id)
        ).first()
        return (row is not None, row.reply if row is not None else None)

    def state(self) -> ParticipantState:
        row = self.row
        return ParticipantState(
            opted_out=bool(row["opted_out"]),  # type: ignore[index]
            language=row["language"],  # type: ignore[index]
            active_consultation=row["active_consultation"],  # type: ignore[index]
        )

    def sessions(self) -> dict[str, SessionState]:
        rows = self.conn.execute(
            select(schema.sessions).where(schema.sessions.c.pseudonym == self.pseudonym)
        )
        return {
            r.consultation_id: SessionState(
                consultation_id=r.consultation_id,
                language=r.language,
                position=r.position,
                invalid_tries=r.invalid_tries,
                completed=r.completed,
            )
            for r in rows
        }

    def replies_since(self, since: datetime) -> int:
        inbound = schema.inbound.c
        return self.conn.execute(
            select(func.count())
            .select_from(schema.inbound)
            .where(
                and_(
                    inbound.pseudonym == self.pseudonym,
                    inbound.channel == "sms",  # voice steps keep their TwiML, not an SMS
                    inbound.received_at >= since,
                    inbound.reply.is_not(None),
                )
            )
        ).scalar_one()

    # --- writes -----------------------------------------------------------------------

    def apply(self, step: Step, inbound: InboundRecord, region: str | None) -> int:
        """Write the step's state, its response events and the inbound log row.

        Returns how many response events were recorded.
        """
        now = inbound.received_at
        participant = step.participant
        self.conn.execute(
            update(schema.participants)
            .where(schema.participants.c.pseudonym == self.pseudonym)
            .values(
                opted_out=participant.opted_out,
                language=participant.language,
                active_consultation=participant.active_consultation,
                updated_at=now,
            )
        )
        if step.session is not None:
            self.save_session(step.session, now)
        self.record_events(step.recorded, inbound.channel, now, region)
        self.log_inbound(inbound)
        return len(step.recorded)

    def set_language(self, language: str, now: datetime) -> None:
        """Remember the language a caller chose (the voice line's language menu)."""
        self.conn.execute(
            update(schema.participants)
            .where(schema.participants.c.pseudonym == self.pseudonym)
            .values(language=language, updated_at=now)
        )

    def save_session(self, session: SessionState, now: datetime) -> None:
        values = {
            "language": session.language,
            "position": session.position,
            "invalid_tries": session.invalid_tries,
            "completed": session.completed,
            "updated_at": now,
        }
        key = and_(
            schema.sessions.c.pseudonym == self.pseudonym,
            schema.sessions.c.consultation_id == session.consultation_id,
        )
        if self.conn.execute(update(schema.sessions).where(key).values(**values)).rowcount == 0:
            self.conn.execute(
                insert(schema.sessions).values(
                    pseudonym=self.pseudonym,
                    consultation_id=session.consultation_id,
                    started_at=now,
                    **values,
                )
            )

    def record_events(
        self, recorded: tuple[Recorded, ...], channel: str, now: datetime, region: str | None
    ) -> None:
        if not recorded:
            return
        self.conn.execute(
            insert(schema.events),
            [
                {
                    "event_id": str(uuid.uuid4()),
                    "consultation_id": r.consultation_id,
                    "question_id": r.question_id,
                    "pseudonym": self.pseudonym,
                    "channel": channel,
                    "status": str(r.status),
                    "value": r.value,
                    "raw": r.raw,
                    "language": r.language,
                    "answered_at": now,
                    "region": region,
                }
                for r in recorded
            ],
        )

    def log_inbound(self, inbound: InboundRecord) -> None:
        self.conn.execute(
            insert(schema.inbound).values(
                provider_id=inbound.provider_id,
                channel=inbound.channel,
                pseudonym=self.pseudonym,
                received_at=inbound.received_at,
                reply=inbound.reply,
            )
        )
