"""The outreach the centre published, as last fetched by the sync (docs/outreach.md §4).

The set is replaced whole with its ETag in one transaction, like the consultations
(gateway/store/sync_state.py): a reader sees the old set or the new one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, delete, insert, select

from gateway.database import write_transaction
from gateway.store import schema
from gateway.store.sync_state import SyncStateStore

OUTREACH_ETAG_KEY = "outreach_etag"


@dataclass(frozen=True)
class CachedOutreach:
    id: str
    version: int
    consultation_id: str
    status: str
    definition: str  # the JSON object as published


class OutreachStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def replace(self, items: Sequence[CachedOutreach], etag: str, now: datetime) -> None:
        with write_transaction(self.engine) as conn:
            conn.execute(delete(schema.outreach))
            if items:
                conn.execute(insert(schema.outreach), [
                    {"id": o.id, "version": o.version, "consultation_id": o.consultation_id,
                     "status": o.status, "definition": o.definition, "fetched_at": now}
                    for o in items
                ])
            SyncStateStore._set_state(conn, {OUTREACH_ETAG_KEY: etag}, now)

    def cached(self) -> list[CachedOutreach]:
        o = schema.outreach.c
        query = select(o.id, o.version, o.consultation_id, o.status, o.definition)
        with self.engine.connect() as conn:
            return [CachedOutreach(*row) for row in conn.execute(query.order_by(o.id))]

    def etag(self) -> str | None:
        return SyncStateStore(self.engine).state([OUTREACH_ETAG_KEY]).get(OUTREACH_ETAG_KEY)
