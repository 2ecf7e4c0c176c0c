"""Engines for SQLite (the default, in WAL mode) and PostgreSQL (by URL).

Durability and isolation are the databases' own. SQLite runs in WAL mode with its own
`synchronous` level (FULL by default: a commit is synced to disk before it becomes
visible to readers, so nothing is answered from data that could still be lost);
PostgreSQL connections run with `synchronous_commit=on` whatever the server's default.

Write transactions (`write_transaction`) begin with BEGIN IMMEDIATE on SQLite, so two
read-modify-write transactions queue for the write lock instead of one failing at its
first write; every other transaction is a plain BEGIN, a reader that never waits for
the writer (WAL) and never makes it wait.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Insert, Table, create_engine, event, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_SYNCHRONOUS_LEVELS = ("FULL", "NORMAL", "EXTRA")
WRITE_OPTION = "civicline_write"  # execution option: this transaction will write
# Two processes opening a new SQLite file at once both switch it to WAL; SQLite refuses
# one of them at once ("database is locked") rather than risk a deadlock in its busy
# handler. The switch is made once per file, so the loser tries again shortly.
WAL_SWITCH_TRIES = 50
WAL_SWITCH_PAUSE = 0.05  # seconds
# Serialises schema creation across processes on PostgreSQL (any constant would do).
SCHEMA_LOCK_KEY = 0x4369_7669_634C


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names (None: another database, or SQLite in memory)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def make_engine(url: str, *, synchronous: str = "FULL") -> Engine:
    """An engine for `url`: SQLite in WAL mode at `synchronous`, or PostgreSQL.

    `hide_parameters`: a database error names its statement but not its values, which
    can be phone numbers or token hashes, so logged tracebacks carry neither.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "postgresql":
        engine = create_engine(parsed, pool_pre_ping=True, hide_parameters=True)
        event.listen(engine, "connect", _postgresql_synchronous_commit)
        return engine
    if parsed.get_backend_name() != "sqlite":
        raise ValueError(f"unsupported database URL {parsed.render_as_string()!r}: "
                         "use sqlite:///PATH or postgresql://...")
    level = synchronous.upper()
    if level not in SQLITE_SYNCHRONOUS_LEVELS:
        raise ValueError(f"SQLite synchronous must be one of {SQLITE_SYNCHRONOUS_LEVELS}")
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        parsed,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        hide_parameters=True,
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # SQLAlchemy's BEGIN below rules transactions, not the driver's own guesses.
        dbapi_connection.isolation_level = None
        _switch_to_wal(dbapi_connection)
        dbapi_connection.execute(f"PRAGMA synchronous={level}")
        dbapi_connection.execute("PRAGMA foreign_keys=ON")

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        writes = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")

    return engine


def _switch_to_wal(dbapi_connection: sqlite3.Connection) -> None:
    for attempt in range(WAL_SWITCH_TRIES):
        try:
            mode = dbapi_connection.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == WAL_SWITCH_TRIES - 1:
                raise
            time.sleep(WAL_SWITCH_PAUSE)
            continue
        if mode.lower() not in ("wal", "memory"):  # ":memory:" has no log to keep
            raise RuntimeError(f"SQLite refused WAL mode (journal_mode is {mode!r})")
        return


def _postgresql_synchronous_commit(dbapi_connection: Any, _record: Any) -> None:
    """A commit returns only once it is on disk, whatever the server's default."""
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    try:
        dbapi_connection.execute("SET synchronous_commit = on")
    finally:
        dbapi_connection.autocommit = autocommit


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that will write, committed when the block ends (rolled back if it
    raises). On SQLite it holds the write lock from its start (BEGIN IMMEDIATE)."""
    with engine.connect() as conn:
        conn.execution_options(**{WRITE_OPTION: True})
        with conn.begin():
            yield conn


@contextmanager
def schema_transaction(engine: Engine) -> Iterator[Connection]:
    """A write transaction for creating or upgrading tables: one process at a time, so
    processes starting together on a new database do not both create a table."""
    with write_transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
        yield conn


def ping(engine: Engine) -> None:
    """Raise unless the database answers (the health checks)."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


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


def as_utc(moment: datetime) -> datetime:
    """A stored time, aware and in UTC: SQLite hands back what was written (in UTC)
    without its zone, PostgreSQL in the session's zone."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
