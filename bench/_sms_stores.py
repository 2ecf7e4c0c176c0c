"""The stores the SMS bench runs the gateway on: SQLite files or a PostgreSQL schema.

Which stores there are (`--stores`), the DATABASE_URL for each, the PostgreSQL helpers (the
server's commit settings, a fresh schema dropped afterwards) and the rows counted after a run.
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from gateway.database import make_engine

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
GATEWAY_TABLES = ("inbound", "events", "participants")


@dataclass(frozen=True)
class Store:
    """One local store the gateway runs on."""

    key: str  # as given to --stores
    label: str  # the row's name in the tables
    synchronous: str  # SQLITE_SYNCHRONOUS: the SQLite store and the embedded central one


STORES = (  # the order they run in
    Store("full", "gateway SQLite FULL", "FULL"),
    Store("normal", "gateway SQLite NORMAL", "NORMAL"),
    Store("postgresql", "gateway PostgreSQL", "FULL"),
)


def count_rows(url: str, tables: Sequence[str]) -> dict[str, int]:
    """Rows in each of `tables` of the store at `url` (SQLite file or PostgreSQL schema)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {table: int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608
                    for table in tables}
    finally:
        engine.dispose()


def _connect_postgres(url: str) -> Engine:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure to connect: say so and stop
        engine.dispose()
        raise SystemExit(f"PostgreSQL at {_shown(url)} is not reachable "
                         f"({exc.__class__.__name__}: {exc}); give --postgres URL, or leave "
                         "it out with --stores full,normal") from exc
    return engine


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def postgres_facts(url: str) -> str:
    """The server's version and the settings that decide what a commit waits for."""
    engine = _connect_postgres(url)
    try:
        with engine.connect() as conn:
            version, fsync, method, pages = conn.execute(text(
                "SELECT current_setting('server_version'), current_setting('fsync'), "
                "current_setting('wal_sync_method'), current_setting('full_page_writes')"
            )).one()
    finally:
        engine.dispose()
    return (f"PostgreSQL {version} at {_shown(url)}: fsync={fsync}, "
            f"wal_sync_method={method}, full_page_writes={pages}")


@contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """A URL whose connections use a new, empty schema, dropped with its tables afterwards
    (as tests/conftest.py's postgres_schema): search_path is set in the URL's options."""
    name = f"bench_{uuid.uuid4().hex[:16]}"
    admin = _connect_postgres(url)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
        try:
            separator = "&" if "?" in url else "?"
            yield f"{url}{separator}options=-csearch_path%3D{name}"
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
    finally:
        admin.dispose()


@contextmanager
def store_url(args: argparse.Namespace, store: Store, workdir: Path,
              server_name: str) -> Iterator[str]:
    """DATABASE_URL for the gateway on `store`: a new SQLite file or PostgreSQL schema."""
    if store.key == "postgresql":
        with postgres_schema(args.postgres) as url:
            yield url
    else:
        yield f"sqlite:///{workdir / (server_name + '.db')}"
