"""Every response of a consultation, streamed from the central store for the exports:
in counting order, or in the order of an open-data release."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Connection, Engine, func, literal, select

from gateway.central.store.schema import events

STREAM_BATCH = 2000
RELEASE_KEY_FUNCTION = "civicline_release_key"  # release_key, registered on SQLite


@dataclass(frozen=True)
class ResponseRow:
    event_id: str
    pseudonym: str
    question_id: str
    status: str
    value: str | None
    channel: str
    language: str
    answered_at: datetime
    region: str | None
    gateway: str
    counted: bool


class ResponseStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def responses(
        self, consultation_id: str, *, release_salt: str | None = None
    ) -> Iterator[ResponseRow]:
        """Every event of the consultation, whether it counts, streamed in batches.

        Ordered by question, participant, time and event id, so each participant's
        history for a question is together and its last event is the one that counts.
        Participants come in the order of their pseudonyms; for an open-data release
        (`release_salt`), in the order of release_key(release_salt, pseudonym) instead,
        sorted by the database (which spills to disk itself, however many rows).
        """
        e = events.c
        query = (
            select(
                e.event_id,
                e.pseudonym,
                e.question_id,
                e.status,
                e.value,
                e.channel,
                e.language,
                e.answered_at,
                e.region,
                e.gateway,
            )
            .where(e.consultation_id == consultation_id)
        )
        with self.engine.connect() as conn:
            if release_salt is None:
                query = query.order_by(e.question_id, e.pseudonym, e.answered_at, e.event_id)
            else:
                question, key = _release_order(conn, release_salt)
                query = query.order_by(question, key, e.pseudonym, e.answered_at, e.event_id)
            result = conn.execution_options(yield_per=STREAM_BATCH).execute(query)
            held: tuple | None = None  # a row is counted when the next one starts a new pair
            for row in result:
                if held is not None:
                    yield _response(held, counted=(row[2], row[1]) != (held[2], held[1]))
                held = row
            if held is not None:
                yield _response(held, counted=True)

    def response_count(self, consultation_id: str) -> int:
        """How many rows `responses` gives (an export's progress is measured against it)."""
        e = events.c
        with self.engine.connect() as conn:
            return conn.execute(
                select(func.count()).where(e.consultation_id == consultation_id)
            ).scalar_one()


def _response(row: tuple, *, counted: bool) -> ResponseRow:
    event_id, pseudonym, question_id, status, value, channel, language, at, region, gateway = row
    return ResponseRow(
        event_id,
        pseudonym,
        question_id,
        status,
        value,
        channel,
        language,
        at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC),
        region,
        gateway,
        counted,
    )


def release_key(salt: str, pseudonym: str) -> str:
    """The hex SHA-256 of salt + pseudonym: what PostgreSQL's
    encode(sha256(convert_to(salt || pseudonym, 'UTF8')), 'hex') gives, and what SQLite
    computes with this function registered on the connection."""
    return hashlib.sha256((salt + pseudonym).encode("utf-8")).hexdigest()


def _release_order(conn: Connection, salt: str) -> tuple[ColumnElement, ColumnElement]:
    """ORDER BY terms of a release: the question, then release_key(salt, pseudonym), both
    in byte order (as Python sorts them) whatever the database's collation."""
    e = events.c
    if conn.dialect.name == "sqlite":  # BINARY, SQLite's default collation, is byte order
        conn.connection.driver_connection.create_function(  # type: ignore[union-attr]
            RELEASE_KEY_FUNCTION, 2, release_key, deterministic=True
        )
        return e.question_id, getattr(func, RELEASE_KEY_FUNCTION)(salt, e.pseudonym)
    digest = func.sha256(func.convert_to(literal(salt) + e.pseudonym, "UTF8"))
    return e.question_id.collate("C"), func.encode(digest, "hex").collate("C")
