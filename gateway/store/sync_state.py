"""The sync's own state in the local store: the gateway_state key/value table (last
result, failures, next attempt, the embedded centre's token), the sync lease kept in it,
and the cache of consultations fetched from the central store.

In the local store, because the local store is the record: nothing here depends on Redis
being up. The events themselves are the outbox (gateway/store/outbox.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update

from gateway.database import insert_ignoring_conflicts, write_transaction
from gateway.store import schema

LEASE_KEY = "sync_lease"
CATALOG_ETAG_KEY = "consultations_etag"


@dataclass(frozen=True)
class Lease:
    holder: str
    host: str
    pid: int
    expires_at: datetime

    def to_text(self) -> str:
        return json.dumps(
            {"holder": self.holder, "host": self.host, "pid": self.pid,
             "expires_at": self.expires_at.isoformat()}
        )

    @classmethod
    def from_text(cls, value: str) -> Lease | None:
        if not value:
            return None
        try:
            data = json.loads(value)
            return cls(data["holder"], data["host"], int(data["pid"]),
                       datetime.fromisoformat(data["expires_at"]))
        except (ValueError, KeyError, TypeError):
            return None  # unreadable: treat as free


@dataclass(frozen=True)
class CachedConsultation:
    id: str
    version: int
    definition: str


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; the store writes UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class SyncStateStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- key / value ----------------------------------------------------------------------------

    def state(self, keys: Iterable[str] | None = None) -> dict[str, str]:
        s = schema.gateway_state.c
        query = select(s.key, s.value)
        if keys is not None:
            query = query.where(s.key.in_(list(keys)))
        with self.engine.connect() as conn:
            return {row.key: row.value for row in conn.execute(query)}

    def set_state(self, values: Mapping[str, str], now: datetime) -> None:
        with write_transaction(self.engine) as conn:
            self._set_state(conn, values, now)

    @staticmethod
    def _set_state(conn: Any, values: Mapping[str, str], now: datetime) -> None:
        s = schema.gateway_state
        for key, value in values.items():
            if conn.execute(
                update(s).where(s.c.key == key).values(value=value, updated_at=now)
            ).rowcount == 0:
                insert_ignoring_conflicts(
                    conn, s, [{"key": key, "value": value, "updated_at": now}]
                )
                conn.execute(update(s).where(s.c.key == key).values(value=value, updated_at=now))

    # --- the sync lease -------------------------------------------------------------------

    def acquire_lease(
        self,
        lease: Lease,
        now: datetime,
        holder_alive: Callable[[Lease], bool],
    ) -> Lease | None:
        """Take or renew the lease; returns None on success, else the lease in force.

        One transaction: on SQLite BEGIN IMMEDIATE, on PostgreSQL a row lock, so two
        processes never both see the lease free.
        """
        s = schema.gateway_state
        with write_transaction(self.engine) as conn:
            insert_ignoring_conflicts(conn, s, [{"key": LEASE_KEY, "value": "",
                                                 "updated_at": now}])
            query = select(s.c.value).where(s.c.key == LEASE_KEY)
            if conn.dialect.name == "postgresql":
                query = query.with_for_update()
            current = Lease.from_text(conn.execute(query).scalar_one())
            if (
                current is not None
                and current.holder != lease.holder
                and _aware(current.expires_at) > now
                and holder_alive(current)
            ):
                return current
            conn.execute(
                update(s).where(s.c.key == LEASE_KEY).values(value=lease.to_text(),
                                                              updated_at=now)
            )
        return None

    def release_lease(self, holder: str, now: datetime) -> None:
        s = schema.gateway_state
        with write_transaction(self.engine) as conn:
            query = select(s.c.value).where(s.c.key == LEASE_KEY)
            if conn.dialect.name == "postgresql":
                query = query.with_for_update()
            current = Lease.from_text(conn.execute(query).scalar() or "")
            if current is not None and current.holder == holder:
                conn.execute(update(s).where(s.c.key == LEASE_KEY).values(value="",
                                                                          updated_at=now))

    def current_lease(self) -> Lease | None:
        return Lease.from_text(self.state([LEASE_KEY]).get(LEASE_KEY, ""))

    # --- consultations fetched from the centre --------------------------------------------

    def replace_consultations(
        self, items: Sequence[CachedConsultation], etag: str, now: datetime
    ) -> None:
        """The whole set and its ETag in one transaction: a reader sees old or new."""
        with write_transaction(self.engine) as conn:
            conn.execute(delete(schema.consultation_cache))
            if items:
                conn.execute(
                    insert(schema.consultation_cache),
                    [
                        {"id": c.id, "version": c.version, "definition": c.definition,
                         "fetched_at": now}
                        for c in items
                    ],
                )
            self._set_state(conn, {CATALOG_ETAG_KEY: etag}, now)

    def cached_consultations(self) -> tuple[str | None, list[CachedConsultation]]:
        """(ETag, consultations) read together."""
        c = schema.consultation_cache.c
        s = schema.gateway_state.c
        with self.engine.connect() as conn:
            etag = conn.execute(
                select(s.value).where(s.key == CATALOG_ETAG_KEY)
            ).scalar()
            rows = conn.execute(select(c.id, c.version, c.definition).order_by(c.id)).all()
        return etag, [CachedConsultation(*row) for row in rows]

    def catalog_etag(self) -> str | None:
        return self.state([CATALOG_ETAG_KEY]).get(CATALOG_ETAG_KEY)
