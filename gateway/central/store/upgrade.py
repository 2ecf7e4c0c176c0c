"""Central databases from before the centre's tables were named `central_...`.

The prefix lets the centre share one database with a gateway (DATABASE_URL and
CENTRAL_DATABASE_URL the same): both sides once had tables named `participants` and
`events`. A database made before keeps working: its tables, and the indexes
schema.py names, are renamed in place (ALTER TABLE ... RENAME TO) in the transaction
that creates the missing tables, before they are created; on PostgreSQL, so are the
names it gave their keys and id sequences. The database is then as a new one would be,
rows and all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy import Connection, Table, inspect, text

log = logging.getLogger(__name__)

# Names before the prefix; fixed, whatever schema.py comes to hold.
PREVIOUS_TABLE_NAMES = {
    "central_gateways": "gateways",
    "central_consultations": "consultations",
    "central_events": "events",
    "central_final_states": "final_states",
    "central_participants": "participants",
    "central_officials": "officials",
    "central_official_sessions": "official_sessions",
    "central_signin_failures": "signin_failures",
    "central_token_failures": "token_failures",
    "central_export_jobs": "export_jobs",
}
PREVIOUS_INDEX_NAMES = {
    "ix_central_events_tally": "ix_events_tally",
    "ix_central_final_states_values": "ix_final_states_values",
    "ix_central_final_states_people": "ix_final_states_people",
    "ix_central_official_sessions_username": "ix_official_sessions_username",
    "ix_central_official_sessions_expires_at": "ix_official_sessions_expires_at",
    "ix_central_signin_failures_username": "ix_signin_failures_username",
    "ix_central_token_failures_remote": "ix_token_failures_remote",
    "ix_central_export_jobs_consultation": "ix_export_jobs_consultation",
}


def under_previous_names(conn: Connection, tables: Iterable[Table]) -> list[Table]:
    """Those of `tables` that this database holds under their previous name only.

    A table of that name without all of the centre's columns is someone else's (a
    gateway's `events` or `participants`, when both share the database): it is left alone.
    Tables made after the prefix (outreach) have no previous name.
    """
    found = inspect(conn)
    existing = set(found.get_table_names())
    previous = []
    for table in tables:
        old = PREVIOUS_TABLE_NAMES.get(table.name)
        if old is None or old not in existing or table.name in existing:
            continue
        columns = {column["name"] for column in found.get_columns(old)}
        if {column.name for column in table.columns} <= columns:
            previous.append(table)
    return previous


def rename_previous_tables(conn: Connection, tables: Iterable[Table]) -> None:
    """Give those of `tables` found under their previous name (see under_previous_names)
    their own, with the indexes schema.py names; in `conn`'s transaction."""
    quote = conn.dialect.identifier_preparer.quote
    for table in under_previous_names(conn, tables):
        old = PREVIOUS_TABLE_NAMES[table.name]
        conn.execute(text(f"ALTER TABLE {quote(old)} RENAME TO {quote(table.name)}"))
        _rename_indexes(conn, table)
        if conn.dialect.name == "postgresql":
            _rename_postgresql_names(conn, old, table.name)
        log.info("central store: table %s renamed %s", old, table.name)


def _rename_indexes(conn: Connection, table: Table) -> None:
    quote = conn.dialect.identifier_preparer.quote
    have = {index["name"] for index in inspect(conn).get_indexes(table.name)}
    for index in table.indexes:
        old = PREVIOUS_INDEX_NAMES.get(str(index.name))
        if old not in have:
            continue
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"ALTER INDEX {quote(old)} RENAME TO {quote(str(index.name))}"))
        else:  # SQLite cannot rename an index: it is made again under its name
            conn.execute(text(f"DROP INDEX {quote(old)}"))
            index.create(conn)


# What PostgreSQL named after the table: its keys' constraints (with their indexes), and
# the sequences of its id columns.
_CONSTRAINTS = text("SELECT conname FROM pg_constraint WHERE conrelid = CAST(:table AS regclass)")
_SEQUENCES = text(
    "SELECT s.relname FROM pg_depend d JOIN pg_class s ON s.oid = d.objid"
    " WHERE d.refobjid = CAST(:table AS regclass) AND s.relkind = 'S'"
)


def _rename_postgresql_names(conn: Connection, old: str, new: str) -> None:
    quote = conn.dialect.identifier_preparer.quote
    table = quote(new)
    for query, statement in (
        (_CONSTRAINTS, "ALTER TABLE {table} RENAME CONSTRAINT {name} TO {renamed}"),
        (_SEQUENCES, "ALTER SEQUENCE {name} RENAME TO {renamed}"),
    ):
        for name in conn.execute(query, {"table": table}).scalars().all():
            if name.startswith(old + "_"):
                renamed = quote(new + name[len(old):])
                conn.execute(text(statement.format(table=table, name=quote(name), renamed=renamed)))
