"""Engines: durability and isolation from SQLite and PostgreSQL themselves."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, Table, select, text, update

from gateway.database import make_engine, schema_transaction, write_transaction
from tests.conftest import postgres_schema

metadata = MetaData()
counter = Table("counter", metadata, Column("id", Integer, primary_key=True),
                Column("n", Integer, nullable=False))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    with schema_transaction(engine) as conn:
        metadata.create_all(conn)
        conn.execute(counter.insert().values(id=1, n=0))
    yield engine
    engine.dispose()


def sqlite_only(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's locking")


def pragma(engine: Engine, name: str) -> object:
    with engine.connect() as conn:
        return conn.exec_driver_sql(f"PRAGMA {name}").scalar_one()


def test_sqlite_is_in_wal_mode_with_its_own_full_sync(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    assert pragma(engine, "journal_mode") == "wal"
    assert pragma(engine, "synchronous") == 2  # FULL: SQLite syncs each commit itself
    normal = make_engine(f"sqlite:///{tmp_path / 'b.db'}", synchronous="normal")
    assert pragma(normal, "synchronous") == 1


def test_postgresql_commits_synchronously_whatever_the_session_default() -> None:
    url = os.environ.get("DATABASE_URL_TEST")
    if not url:
        pytest.skip("DATABASE_URL_TEST not set")
    with postgres_schema(url) as schema_url:
        # The URL asks the server for asynchronous commits; the engine overrides it.
        asynchronous = "options=-csynchronous_commit%3Doff%20"
        engine = make_engine(schema_url.replace("options=", asynchronous))
        with engine.connect() as conn:
            assert conn.execute(text("SHOW synchronous_commit")).scalar_one() == "on"
            assert conn.execute(text("SHOW search_path")).scalar_one().startswith("t_")
        engine.dispose()


def test_a_reader_does_not_wait_for_the_writer(engine: Engine) -> None:
    """A read (an export, the dashboard) runs while a write transaction holds the lock,
    and sees the last committed state."""
    read: list[int] = []
    with write_transaction(engine) as conn:
        conn.execute(update(counter).values(n=5))
        reader = threading.Thread(target=lambda: read.append(_value(engine)))
        reader.start()
        reader.join(5)
        assert not reader.is_alive(), "the reader waited for the writer"
    assert read == [0]


def test_the_writer_does_not_wait_for_a_long_reader(engine: Engine) -> None:
    with engine.connect() as reading:
        assert reading.execute(select(counter.c.n)).scalar_one() == 0  # its transaction stays open
        done = threading.Event()

        def write() -> None:
            with write_transaction(engine) as conn:
                conn.execute(update(counter).values(n=counter.c.n + 1))
            done.set()

        threading.Thread(target=write).start()
        assert done.wait(5), "the writer waited for the reader"
    assert _value(engine) == 1


def test_write_transactions_queue_instead_of_failing(engine: Engine) -> None:
    """Twenty read-modify-write transactions at once: each waits for the write lock at
    its BEGIN, so none fails at its first write and no increment is lost."""
    sqlite_only(engine)
    barrier = threading.Barrier(20)
    errors: list[BaseException] = []

    def increment() -> None:
        barrier.wait()
        try:
            with write_transaction(engine) as conn:
                n = conn.execute(select(counter.c.n)).scalar_one()
                conn.execute(update(counter).values(n=n + 1))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=increment) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert _value(engine) == 20


def test_a_write_that_raises_is_rolled_back(engine: Engine) -> None:
    with pytest.raises(RuntimeError), write_transaction(engine) as conn:
        conn.execute(update(counter).values(n=99))
        raise RuntimeError("the webhook failed")
    assert _value(engine) == 0


def test_a_database_reached_through_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "data" / "civicline.db"
    real.parent.mkdir()
    link = tmp_path / "current.db"
    link.symlink_to(real)
    engine = make_engine(f"sqlite:///{link}")
    with schema_transaction(engine) as conn:
        metadata.create_all(conn)
    with write_transaction(engine) as conn:
        conn.execute(counter.insert().values(id=1, n=7))
    engine.dispose()
    again = make_engine(f"sqlite:///{real}")
    assert _value(again) == 7
    again.dispose()


def _value(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(counter.c.n).where(counter.c.id == 1)).scalar_one()
