"""Statements run on the driver store and read values exactly as through SQLAlchemy."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, bindparam, insert, select

from gateway.store import schema
from gateway.store.database import make_engine
from gateway.store.driver import DriverExecutor, write_transaction
from gateway.store.local import INSERT_INBOUND, INSERT_PARTICIPANT, SELECT_PARTICIPANT

NOW = datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)
_inbound = schema.inbound.c
SELECT_INBOUND = select(_inbound.provider_id, _inbound.received_at, _inbound.reply).where(
    _inbound.provider_id == bindparam("provider_id")
)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    schema.metadata.create_all(engine)
    yield engine
    engine.dispose()


def inbound(provider_id: str, at: datetime = NOW) -> dict[str, object]:
    return {"provider_id": provider_id, "channel": "sms", "pseudonym": "p" * 64,
            "received_at": at, "reply": "Thank you"}


def test_stored_exactly_as_sqlalchemy_stores(engine: Engine) -> None:
    with write_transaction(engine) as db:
        db.execute(INSERT_INBOUND, inbound("SM-driver"))
    with engine.begin() as conn:
        conn.execute(insert(schema.inbound), inbound("SM-core"))
        raw = {
            provider: stamp
            for provider, stamp in conn.exec_driver_sql(
                "SELECT provider_id, CAST(received_at AS TEXT) FROM inbound"
            )
        }
        through_core = conn.execute(SELECT_INBOUND, {"provider_id": "SM-driver"}).one()
    assert raw["SM-driver"] == raw["SM-core"]  # the same stored text, on either database
    with write_transaction(engine) as db:
        read = db.execute(SELECT_INBOUND, {"provider_id": "SM-core"}).one()
    assert read.received_at.replace(tzinfo=UTC) == NOW
    assert read.received_at == through_core.received_at
    assert (read.provider_id, read.reply) == ("SM-core", "Thank you")


def test_column_defaults_and_booleans(engine: Engine) -> None:
    dialect = engine.dialect.name
    with write_transaction(engine) as db:
        db.execute(INSERT_PARTICIPANT[dialect], {  # opted_out left to its default
            "pseudonym": "a" * 64, "phone": "+254712345678", "created_at": NOW,
            "updated_at": NOW})
        row = db.execute(SELECT_PARTICIPANT, {"pseudonym": "a" * 64}).one()
    assert row.opted_out is False
    assert row.language is None


def test_executemany_and_rowcount(engine: Engine) -> None:
    with write_transaction(engine) as db:
        db.execute(INSERT_INBOUND, [inbound(f"SM{n}", NOW + timedelta(seconds=n))
                                    for n in range(5)])
        counted = db.execute(
            select(_inbound.provider_id).order_by(_inbound.received_at.desc()), {}
        )
        assert [r.provider_id for r in counted] == [f"SM{n}" for n in reversed(range(5))]


def test_an_error_rolls_the_whole_transaction_back(engine: Engine) -> None:
    with pytest.raises(RuntimeError), write_transaction(engine) as db:
        db.execute(INSERT_INBOUND, inbound("SM-lost"))
        raise RuntimeError("the webhook failed after writing")
    with write_transaction(engine) as db:
        assert db.execute(SELECT_INBOUND, {"provider_id": "SM-lost"}).first() is None


def test_a_missing_value_is_named(engine: Engine) -> None:
    with pytest.raises(ValueError, match="no value given for 'provider_id'"):
        with write_transaction(engine) as db:
            db.execute(SELECT_INBOUND, {})


def test_statements_it_cannot_run_are_refused_when_first_used(engine: Engine) -> None:
    in_list = select(_inbound.provider_id).where(_inbound.channel.in_(["sms", "voice"]))
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True),
                  Column("tag", String(8), default=lambda: "made"))
    with write_transaction(engine) as db:
        with pytest.raises(ValueError, match="IN list"):
            db.execute(in_list, {})
        with pytest.raises(ValueError, match="only scalar defaults"):
            DriverExecutor(db.connection, engine.dialect).execute(insert(table), {"id": 1})
