"""Response events, stored exactly once whatever the deliveries: the SQL on `central_events`
(and, in the same transaction, the final states and the gateway's contact)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, select, text

from gateway.central.store import final_states, schema
from gateway.central.store.gateways import record_contact
from gateway.central.validation import Batch
from gateway.database import insert_ignoring, write_transaction


@dataclass(frozen=True)
class Receipt:
    new: int
    known: int


_EVENT_ARRAYS = (
    ("event_id", "text"), ("consultation_id", "text"), ("question_id", "text"),
    ("pseudonym", "text"), ("channel", "text"), ("status", "text"), ("value", "text"),
    ("raw", "text"), ("language", "text"), ("answered_at", "timestamptz"), ("region", "text"),
)
_POSTGRESQL_INSERT = text(
    f"INSERT INTO {schema.events.name} (" + ", ".join(name for name, _ in _EVENT_ARRAYS)
    + ", gateway, received_at) SELECT *, CAST(:gateway AS text), CAST(:received_at AS "
    "timestamptz) FROM unnest("
    + ", ".join(f"CAST(:{name} AS {kind}[])" for name, kind in _EVENT_ARRAYS)
    + ") ON CONFLICT (event_id) DO NOTHING RETURNING event_id"
)


def _insert_events_postgresql(
    conn: Connection, gateway: str, events: list[dict[str, object]], now: datetime
) -> set[str]:
    """The batch as one array per column: one statement whatever the batch size, where
    a multi-row VALUES list costs psycopg a parse of thousands of placeholders. Returns
    the ids of the events that were new."""
    params: dict[str, object] = {name: [e[name] for e in events] for name, _ in _EVENT_ARRAYS}
    params.update(gateway=gateway, received_at=now)
    return set(conn.execute(_POSTGRESQL_INSERT, params).scalars())


class Events:
    """CentralStore's event batches."""

    engine: Engine

    def receive(self, gateway: str, batch: Batch, now: datetime) -> Receipt:
        """Store a validated batch in one transaction; events already known are skipped.

        The unique key on event_id decides, not a prior look-up, so two deliveries of
        one event racing each other still store it once.
        """
        events = schema.events
        new: set[str] = set()
        with write_transaction(self.engine) as conn:
            if batch.events and conn.dialect.name == "postgresql":
                new = _insert_events_postgresql(conn, gateway, batch.events, now)
            elif batch.events:
                rows = [{**e, "gateway": gateway, "received_at": now} for e in batch.events]
                statement = insert_ignoring(conn.dialect.name, events).returning(events.c.event_id)
                new = set(conn.execute(statement, rows).scalars())
            final_states.record(conn, (e for e in batch.events if e["event_id"] in new))
            record_contact(
                conn, gateway, now, backlog=batch.backlog, quarantined=batch.quarantined,
                newest=max((e["answered_at"] for e in batch.events), default=None),
            )
        return Receipt(new=len(new), known=len(batch.events) - len(new))

    def known_events(self, event_ids: Iterable[str]) -> set[str]:
        """Those of `event_ids` (canonical) the centre has stored."""
        wanted = sorted(set(event_ids))
        found: set[str] = set()
        e = schema.events.c
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                found.update(conn.execute(
                    select(e.event_id).where(e.event_id.in_(chunk))
                ).scalars())
        return found
