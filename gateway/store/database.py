"""Engines for SQLite (default, WAL, serialised writers) and PostgreSQL (by URL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Insert, Table, create_engine, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url

from gateway.store.sqlite_lock import connection_class, writer_lock

SQLITE_BUSY_TIMEOUT_MS = 30_000


def make_engine(url: str, *, synchronous: str = "FULL") -> Engine:
    """An engine whose transactions take the write lock at BEGIN on SQLite.

    SQLite's default deferred BEGIN lets two writers read the same state and then one
    fails on upgrade; BEGIN IMMEDIATE makes them queue instead, so two messages from
    one participant are applied one after the other.

    `hide_parameters`: a database error names its statement but not its values, which
    can be phone numbers or token hashes, so logged tracebacks carry neither.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True, future=True, hide_parameters=True)

    connect_args: dict[str, Any] = {
        "check_same_thread": False,
        "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
    }
    database: Path | None = None
    if parsed.database and parsed.database != ":memory:":
        database = Path(parsed.database)
        database.parent.mkdir(parents=True, exist_ok=True)
        connect_args["factory"] = connection_class(writer_lock(database))
    engine = create_engine(parsed, connect_args=connect_args, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN below rule
        cursor = dbapi_connection.cursor()
        mode = cursor.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        level = synchronous.upper()
        if level == "FULL" and mode == "wal" and database is not None:
            # As durable as FULL, with the log's fsync after the write lock is released
            # (gateway/store/sqlite_lock.py); SQLite itself then syncs only at checkpoints.
            dbapi_connection.wal_to_sync = database.with_name(database.name + "-wal")
            level = "NORMAL"
        cursor.execute(f"PRAGMA synchronous={level}")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Connection) -> None:
        # Straight to the driver: this runs for every transaction.
        begin_immediate(connection.connection.driver_connection)

    return engine


def begin_immediate(driver: Any) -> None:
    """BEGIN IMMEDIATE on a sqlite3 connection, queueing on the file's writer lock first
    when it has one (gateway/store/sqlite_lock.py)."""
    if hasattr(driver, "begin_immediate"):
        driver.begin_immediate()
    else:
        driver.execute("BEGIN IMMEDIATE")


def dialect_insert(dialect: str) -> Any:
    """The INSERT construct with ON CONFLICT clauses for `dialect` (sqlite, postgresql)."""
    if dialect == "postgresql":
        return pg_insert
    if dialect == "sqlite":
        return sqlite_insert
    raise RuntimeError(f"unsupported database dialect {dialect!r}")  # pragma: no cover


def insert_ignoring(dialect: str, table: Table) -> Insert:
    """INSERT .. ON CONFLICT DO NOTHING into `table` for `dialect`."""
    return dialect_insert(dialect)(table).on_conflict_do_nothing()


def insert_ignoring_conflicts(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> int:
    """Insert rows, skipping those whose unique key exists; returns how many were new."""
    if not rows:
        return 0
    result = conn.execute(insert_ignoring(conn.dialect.name, table), rows)
    return max(result.rowcount, 0)
