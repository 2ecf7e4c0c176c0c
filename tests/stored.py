"""What webhooks left in a test gateway's store: events, answers, calls, participants."""

from __future__ import annotations

from sqlalchemy import Table, func, select

from gateway.store import schema
from tests.conftest import GatewayHarness


def events(gateway: GatewayHarness) -> list[dict]:
    with gateway.services.store.engine.connect() as conn:
        rows = conn.execute(select(schema.events).order_by(schema.events.c.seq))
        return [dict(r._mapping) for r in rows]


def answers(gateway: GatewayHarness) -> dict[str, tuple[str, str | None]]:
    return {e["question_id"]: (e["status"], e["value"]) for e in events(gateway)}


def call_row(gateway: GatewayHarness, sid: str) -> dict:
    with gateway.services.store.engine.connect() as conn:
        row = conn.execute(select(schema.calls).where(schema.calls.c.call_sid == sid)).one()
        return dict(row._mapping)


def participant_language(gateway: GatewayHarness) -> str | None:
    with gateway.services.store.engine.connect() as conn:
        return conn.execute(select(schema.participants.c.language)).scalar_one()


def count(gateway: GatewayHarness, table: Table) -> int:
    with gateway.services.store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()
