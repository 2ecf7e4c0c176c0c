"""Outreach at the centre: the definitions officials make and the gateways' latest progress
reports. The SQL on `central_outreach` and `central_outreach_progress`.

A definition is stored already checked (gateway/central/officials/outreach_planning.py
applies the rules); here it gets its id (`o-` and 12 hex digits) and a version that grows
with every change, status changes included, so a gateway knows its cached copy is old.
The shapes are those of docs/outreach.md; no phone number is ever stored.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, insert, select, update

from gateway.central.store import schema
from gateway.database import as_utc, write_transaction

# A definition finished (ended or cancelled) longer ago than this is no longer published.
PUBLISHED_AFTER_FINISH = timedelta(days=1)
COUNT_STATES = ("pending", "sending", "sent", "delivered", "failed", "excluded")


class OutreachStatus(StrEnum):
    DRAFT = "draft"
    STARTED = "started"
    PAUSED = "paused"
    CANCELLED = "cancelled"


# Status -> the statuses an official may move it to.
TRANSITIONS: dict[OutreachStatus, frozenset[OutreachStatus]] = {
    OutreachStatus.DRAFT: frozenset({OutreachStatus.STARTED, OutreachStatus.CANCELLED}),
    OutreachStatus.STARTED: frozenset({OutreachStatus.PAUSED, OutreachStatus.CANCELLED}),
    OutreachStatus.PAUSED: frozenset({OutreachStatus.STARTED, OutreachStatus.CANCELLED}),
    OutreachStatus.CANCELLED: frozenset(),
}


class UnknownOutreach(LookupError):
    pass


class StatusRefused(ValueError):
    """The outreach cannot move to that status from the one it has."""


@dataclass(frozen=True)
class OutreachFields:
    """What an official defined, checked: everything a definition holds but its identity."""

    consultation_id: str
    kind: str
    audience: Mapping[str, Any]
    channels: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime
    hours_from: str
    hours_to: str
    timezone: str
    texts: Mapping[str, str]


@dataclass(frozen=True)
class Outreach:
    id: str
    version: int
    status: OutreachStatus
    fields: OutreachFields
    created_by: str
    created_at: datetime
    updated_at: datetime

    @property
    def consultation_id(self) -> str:
        return self.fields.consultation_id

    @property
    def kind(self) -> str:
        return self.fields.kind

    def finished_at(self) -> datetime | None:
        """When it stopped for good: cancelled, or its window ended (None: not yet)."""
        if self.status is OutreachStatus.CANCELLED:
            return self.updated_at
        return self.fields.ends_at

    def published(self) -> dict[str, Any]:
        """As GET /api/v1/outreach lists it (docs/outreach.md, section 2)."""
        f = self.fields
        return {
            "id": self.id,
            "version": self.version,
            "consultation_id": f.consultation_id,
            "kind": f.kind,
            "audience": dict(f.audience),
            "channels": list(f.channels),
            "starts_at": f.starts_at.isoformat(),
            "ends_at": f.ends_at.isoformat(),
            "hours": {"from": f.hours_from, "to": f.hours_to, "timezone": f.timezone},
            "texts": dict(f.texts),
            "status": self.status.value,
        }


@dataclass(frozen=True)
class ProgressReport:
    """One gateway's latest report on one outreach: counts only."""

    outreach_id: str
    gateway: str
    version: int
    counts: Mapping[str, int]
    answered: int
    received_at: datetime
    preview: Mapping[str, Any] | None = field(default=None)


def new_outreach_id() -> str:
    return "o-" + secrets.token_hex(6)


def _outreach(row: Any) -> Outreach:
    return Outreach(
        id=row.id,
        version=row.version,
        status=OutreachStatus(row.status),
        fields=OutreachFields(
            consultation_id=row.consultation_id,
            kind=row.kind,
            audience=json.loads(row.audience),
            channels=tuple(row.channels.split(",")),
            starts_at=as_utc(row.starts_at),
            ends_at=as_utc(row.ends_at),
            hours_from=row.hours_from,
            hours_to=row.hours_to,
            timezone=row.timezone,
            texts=json.loads(row.texts),
        ),
        created_by=row.created_by,
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
    )


def _columns(f: OutreachFields) -> dict[str, Any]:
    return {
        "consultation_id": f.consultation_id,
        "kind": f.kind,
        "audience": json.dumps(dict(f.audience), sort_keys=True),
        "channels": ",".join(f.channels),
        "starts_at": as_utc(f.starts_at),
        "ends_at": as_utc(f.ends_at),
        "hours_from": f.hours_from,
        "hours_to": f.hours_to,
        "timezone": f.timezone,
        "texts": json.dumps(dict(f.texts), sort_keys=True, ensure_ascii=False),
    }


class OutreachStore:
    """The centre's outreach definitions and progress reports."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, fields: OutreachFields, by: str, now: datetime) -> Outreach:
        """A new definition, as a draft at version 1."""
        table = schema.outreach
        with write_transaction(self.engine) as conn:
            while True:  # 48 random bits: a clash is unlikely, and then another id is drawn
                outreach_id = new_outreach_id()
                if conn.execute(select(table.c.id).where(table.c.id == outreach_id)).first():
                    continue
                break
            conn.execute(
                insert(table).values(
                    id=outreach_id, version=1, status=OutreachStatus.DRAFT.value,
                    created_by=by, created_at=as_utc(now), updated_at=as_utc(now),
                    **_columns(fields),
                )
            )  # fmt: skip
        return self.require(outreach_id)

    def get(self, outreach_id: str) -> Outreach | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(schema.outreach).where(schema.outreach.c.id == outreach_id)
            ).first()
        return None if row is None else _outreach(row)

    def require(self, outreach_id: str) -> Outreach:
        found = self.get(outreach_id)
        if found is None:
            raise UnknownOutreach(f"no outreach {outreach_id!r}")
        return found

    def all(self, consultation_id: str | None = None) -> list[Outreach]:
        """Every definition, newest first (of one consultation, when given)."""
        table = schema.outreach
        query = select(table).order_by(table.c.created_at.desc(), table.c.id)
        if consultation_id is not None:
            query = query.where(table.c.consultation_id == consultation_id)
        with self.engine.connect() as conn:
            return [_outreach(row) for row in conn.execute(query)]

    def change(
        self,
        outreach_id: str,
        now: datetime,
        *,
        status: OutreachStatus | None = None,
        fields: OutreachFields | None = None,
    ) -> Outreach:
        """Give the definition a new status and/or fields, and its next version.

        Raises UnknownOutreach, or StatusRefused for a move TRANSITIONS does not allow."""
        table = schema.outreach
        with write_transaction(self.engine) as conn:
            row = conn.execute(select(table).where(table.c.id == outreach_id)).first()
            if row is None:
                raise UnknownOutreach(f"no outreach {outreach_id!r}")
            current = OutreachStatus(row.status)
            values: dict[str, Any] = {"version": row.version + 1, "updated_at": as_utc(now)}
            if status is not None and status is not current:
                if status not in TRANSITIONS[current]:
                    raise StatusRefused(_refusal(outreach_id, current, status))
                values["status"] = status.value
            if fields is not None:
                values.update(_columns(fields))
            conn.execute(update(table).where(table.c.id == outreach_id).values(**values))
        return self.require(outreach_id)

    def published(self, now: datetime) -> list[Outreach]:
        """What gateways are given: every definition, drafts included, but those that
        finished more than PUBLISHED_AFTER_FINISH ago; oldest first."""
        cutoff = now - PUBLISHED_AFTER_FINISH
        return [o for o in reversed(self.all()) if (o.finished_at() or now) >= cutoff]

    @staticmethod
    def etag(published: Iterable[Outreach]) -> str:
        """Changes whenever what GET /api/v1/outreach answers changes."""
        digest = hashlib.sha256()
        for o in published:
            digest.update(f"{o.id}\t{o.version}\n".encode())
        return digest.hexdigest()[:32]

    # --- progress ------------------------------------------------------------------------

    def store_progress(self, gateway: str, reports: Iterable[ProgressReport]) -> int:
        """Keep each report as the gateway's latest on its outreach, unless the centre
        holds one of a later definition version from it; how many were kept. The last
        preview stays until a report brings another."""
        table = schema.outreach_progress
        stored = 0
        with write_transaction(self.engine) as conn:
            for report in reports:
                key = (table.c.outreach_id == report.outreach_id) & (table.c.gateway == gateway)
                held = conn.execute(select(table.c.version).where(key)).scalar_one_or_none()
                values: dict[str, Any] = {
                    "version": report.version,
                    "counts": json.dumps(dict(report.counts), sort_keys=True),
                    "answered": report.answered,
                    "received_at": as_utc(report.received_at),
                }
                if report.preview is not None:  # a report without one keeps the last
                    values["preview"] = json.dumps(report.preview, sort_keys=True)
                if held is None:
                    conn.execute(
                        insert(table).values(
                            outreach_id=report.outreach_id, gateway=gateway, **values
                        )
                    )
                elif held <= report.version:
                    conn.execute(update(table).where(key).values(**values))
                else:
                    continue
                stored += 1
        return stored

    def progress(self, outreach_id: str) -> list[ProgressReport]:
        """The latest report of each gateway on this outreach, by gateway name."""
        table = schema.outreach_progress
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(table).where(table.c.outreach_id == outreach_id).order_by(table.c.gateway)
            ).all()
        return [
            ProgressReport(
                outreach_id=row.outreach_id,
                gateway=row.gateway,
                version=row.version,
                counts=json.loads(row.counts),
                answered=row.answered,
                received_at=as_utc(row.received_at),
                preview=None if row.preview is None else json.loads(row.preview),
            )
            for row in rows
        ]


def _refusal(outreach_id: str, current: OutreachStatus, wanted: OutreachStatus) -> str:
    allowed = sorted(s.value for s in TRANSITIONS[current])
    then = f"; it can be {' or '.join(allowed)}" if allowed else "; nothing more can change"
    return f"outreach {outreach_id} is {current.value}: it cannot be {wanted.value}{then}"
