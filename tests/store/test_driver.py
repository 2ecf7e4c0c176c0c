"""Statements run on the driver store and read values exactly as through SQLAlchemy, in
transactions that keep a committed SQLite connection for the next one."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, bindparam, insert, select

from gateway.store import schema
from gateway.store.database import make_engine
from gateway.store.driver import DriverExecutor, WriteTransactions
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


@pytest.fixture
def write_transaction(engine: Engine) -> WriteTransactions:
    return WriteTransactions(engine)


def inbound(provider_id: str, at: datetime = NOW) -> dict[str, object]:
    return {"provider_id": provider_id, "channel": "sms", "pseudonym": "p" * 64,
            "received_at": at, "reply": "Thank you"}


def test_stored_exactly_as_sqlalchemy_stores(
    engine: Engine, write_transaction: WriteTransactions
) -> None:
    with write_transaction() as db:
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
    with write_transaction() as db:
        read = db.execute(SELECT_INBOUND, {"provider_id": "SM-core"}).one()
    assert read.received_at.replace(tzinfo=UTC) == NOW
    assert read.received_at == through_core.received_at
    assert (read.provider_id, read.reply) == ("SM-core", "Thank you")


def test_column_defaults_and_booleans(
    engine: Engine, write_transaction: WriteTransactions
) -> None:
    dialect = engine.dialect.name
    with write_transaction() as db:
        db.execute(INSERT_PARTICIPANT[dialect], {  # opted_out left to its default
            "pseudonym": "a" * 64, "phone": "+254712345678", "created_at": NOW,
            "updated_at": NOW})
        row = db.execute(
            SELECT_PARTICIPANT, {"pseudonym": "a" * 64, "provider_id": None, "since": None}
        ).one()
    assert row.opted_out is False
    assert row.language is None


def test_executemany_and_rowcount(write_transaction: WriteTransactions) -> None:
    with write_transaction() as db:
        db.execute(INSERT_INBOUND, [inbound(f"SM{n}", NOW + timedelta(seconds=n))
                                    for n in range(5)])
        counted = db.execute(
            select(_inbound.provider_id).order_by(_inbound.received_at.desc()), {}
        )
        assert [r.provider_id for r in counted] == [f"SM{n}" for n in reversed(range(5))]


def test_an_error_rolls_the_whole_transaction_back(write_transaction: WriteTransactions) -> None:
    with pytest.raises(RuntimeError), write_transaction() as db:
        db.execute(INSERT_INBOUND, inbound("SM-lost"))
        raise RuntimeError("the webhook failed after writing")
    with write_transaction() as db:
        assert db.execute(SELECT_INBOUND, {"provider_id": "SM-lost"}).first() is None


def test_a_missing_value_is_named(write_transaction: WriteTransactions) -> None:
    with pytest.raises(ValueError, match="no value given for 'provider_id'"):
        with write_transaction() as db:
            db.execute(SELECT_INBOUND, {})


def test_statements_it_cannot_run_are_refused_when_first_used(
    engine: Engine, write_transaction: WriteTransactions
) -> None:
    in_list = select(_inbound.provider_id).where(_inbound.channel.in_(["sms", "voice"]))
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True),
                  Column("tag", String(8), default=lambda: "made"))
    with write_transaction() as db:
        with pytest.raises(ValueError, match="IN list"):
            db.execute(in_list, {})
        with pytest.raises(ValueError, match="only scalar defaults"):
            DriverExecutor(db.connection, engine.dialect).execute(insert(table), {"id": 1})


@pytest.fixture
def sqlite_engine(tmp_path: os.PathLike[str]) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path}/kept.db")
    schema.metadata.create_all(engine)
    yield engine
    engine.dispose()


def test_a_committed_sqlite_connection_serves_the_next_transaction(
    sqlite_engine: Engine,
) -> None:
    transactions = WriteTransactions(sqlite_engine)
    with transactions() as db:
        db.execute(INSERT_INBOUND, inbound("SM1"))
        first = db.connection
    assert sqlite_engine.pool.checkedout() == 1  # kept, not back in the pool
    with transactions() as db:
        assert db.connection is first
        assert db.execute(SELECT_INBOUND, {"provider_id": "SM1"}).one().reply == "Thank you"


def test_a_failed_transaction_gives_its_connection_back_and_the_lock_up(
    sqlite_engine: Engine,
) -> None:
    transactions = WriteTransactions(sqlite_engine)
    with pytest.raises(RuntimeError), transactions() as db:
        db.execute(INSERT_INBOUND, inbound("SM-lost"))
        raise RuntimeError("the webhook failed after writing")
    assert sqlite_engine.pool.checkedout() == 0
    with sqlite_engine.begin() as conn:  # the write lock is free: this would wait 30 s
        conn.execute(insert(schema.inbound), inbound("SM-next"))
        assert conn.execute(SELECT_INBOUND, {"provider_id": "SM-lost"}).first() is None


def test_disposing_of_the_engine_closes_the_kept_connections(sqlite_engine: Engine) -> None:
    transactions = WriteTransactions(sqlite_engine)
    with transactions() as db:
        kept = db.connection
    sqlite_engine.dispose()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        kept.execute("SELECT 1")
    with transactions() as db:  # a fresh one from the new pool
        assert db.connection is not kept
        db.execute(INSERT_INBOUND, inbound("SM-after"))


def test_a_forked_child_opens_its_own_connection(sqlite_engine: Engine) -> None:
    transactions = WriteTransactions(sqlite_engine)
    with transactions() as db:
        inherited = db.connection
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child, which exits without pytest
        try:
            with transactions() as db:
                db.execute(INSERT_INBOUND, inbound("SM-child"))
                code = 0 if db.connection is not inherited else 3
        except BaseException:
            code = 4
        os._exit(code)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    with transactions() as db:
        assert db.connection is inherited  # the parent's is still its own, and open
        assert db.execute(SELECT_INBOUND, {"provider_id": "SM-child"}).one()


def test_postgresql_connections_go_back_to_the_pool(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    with WriteTransactions(engine)() as db:
        db.execute(INSERT_INBOUND, inbound("SM-pg"))
    assert engine.pool.checkedout() == 0
