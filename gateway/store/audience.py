"""Who an outreach may reach, read from the participants, their sessions and the contact
lists; the rules that choose among them are gateway/application/outreach_audience.py."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, and_, false, func, select, update

from gateway.database import insert_ignoring_conflicts, write_transaction
from gateway.store import schema

_participant = schema.participants.c
_session = schema.sessions.c
_contact = schema.contacts.c


@dataclass(frozen=True)
class Candidate:
    pseudonym: str
    phone: str
    language: str | None
    region: str | None  # as imported (contacts); None: worked out from the number
    completed: bool
    opted_out: bool
    basis: str | None  # the consent basis (contacts); None for participants


PARTICIPANTS_OF = (
    select(_session.pseudonym, _participant.phone, _session.language, _session.completed,
           _participant.opted_out)
    .select_from(schema.sessions.join(
        schema.participants, _participant.pseudonym == _session.pseudonym))
    .order_by(_session.pseudonym)
)
CONTACTS_OF = (
    select(_contact.pseudonym, _contact.phone, _contact.language, _contact.region,
           _contact.basis, func.coalesce(_participant.opted_out, false()))
    .select_from(schema.contacts.outerjoin(
        schema.participants, _participant.pseudonym == _contact.pseudonym))
    .order_by(_contact.pseudonym)
)


class AudienceStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def participants_of(self, consultation_id: str) -> Iterator[Candidate]:
        query = PARTICIPANTS_OF.where(_session.consultation_id == consultation_id)
        with self.engine.connect() as conn:
            for pseudonym, phone, language, completed, opted_out in conn.execute(query):
                yield Candidate(pseudonym, phone, language, None, bool(completed),
                                bool(opted_out), None)

    def contacts_of(self, list_name: str) -> Iterator[Candidate]:
        query = CONTACTS_OF.where(and_(_contact.list == list_name))
        with self.engine.connect() as conn:
            for pseudonym, phone, language, region, basis, opted_out in conn.execute(query):
                yield Candidate(pseudonym, phone, language, region, False, bool(opted_out),
                                basis)

    def opted_out(self, pseudonym: str) -> bool:
        query = select(_participant.opted_out).where(_participant.pseudonym == pseudonym)
        with self.engine.connect() as conn:
            return bool(conn.execute(query).scalar())

    def opt_out(self, pseudonym: str, phone: str, now: datetime) -> None:
        """Mark the number opted out (Twilio refused it with 21610: it sent STOP)."""
        with write_transaction(self.engine) as conn:
            insert_ignoring_conflicts(conn, schema.participants, [
                {"pseudonym": pseudonym, "phone": phone, "opted_out": True,
                 "created_at": now, "updated_at": now}])
            conn.execute(update(schema.participants)
                         .where(_participant.pseudonym == pseudonym)
                         .values(opted_out=True, updated_at=now))
