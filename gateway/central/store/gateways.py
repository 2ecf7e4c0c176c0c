"""Gateways allowed to send events, and their tokens: the SQL on `central_gateways`."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, DateTime, Engine, case, insert, literal, or_, select, update

from gateway.central.store import schema
from gateway.database import write_transaction

GATEWAY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class GatewayExists(ValueError):
    """A gateway of that name already has a token."""


@dataclass(frozen=True)
class GatewayInfo:
    name: str
    created_at: datetime
    last_contact_at: datetime | None
    newest_event_at: datetime | None
    backlog: int | None
    quarantined: int | None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def record_contact(
    conn: Connection,
    gateway: str,
    now: datetime,
    *,
    backlog: int | None,
    quarantined: int | None,
    newest: datetime | None,
) -> None:
    """A batch from `gateway` arrived: its contact time, what it still holds (None:
    not said) and the newest answer it has delivered (None: no events)."""
    g = schema.gateways.c
    values: dict[str, object] = {"last_contact_at": now}
    if backlog is not None:
        values["backlog"] = backlog
    if quarantined is not None:
        values["quarantined"] = quarantined
    if newest is not None:
        moment = literal(newest, DateTime(timezone=True))
        values["newest_event_at"] = case(
            (or_(g.newest_event_at.is_(None), g.newest_event_at < moment), moment),
            else_=g.newest_event_at,
        )
    conn.execute(update(schema.gateways).where(g.name == gateway).values(**values))


class Gateways:
    """CentralStore's gateways and tokens."""

    engine: Engine

    def add_gateway(self, name: str, now: datetime, *, replace: bool = False,
                    token: str | None = None) -> str:
        """A new token for gateway `name` (random, unless the caller derived one); only
        its SHA-256 is kept. Returns the token."""
        if GATEWAY_NAME.fullmatch(name) is None:
            raise ValueError(
                f"gateway name {name!r}: use letters, digits, '.', '_' or '-' (at most 64)"
            )
        token = token or secrets.token_urlsafe(32)
        gateways = schema.gateways
        with write_transaction(self.engine) as conn:
            known = conn.execute(select(gateways.c.name).where(gateways.c.name == name)).first()
            if known is not None and not replace:
                raise GatewayExists(f"gateway {name!r} already has a token")
            if known is None:
                conn.execute(
                    insert(gateways).values(name=name, token_hash=hash_token(token), created_at=now)
                )
            else:
                conn.execute(
                    update(gateways)
                    .where(gateways.c.name == name)
                    .values(token_hash=hash_token(token))
                )
        return token

    def authenticate(self, token: str) -> str | None:
        """The gateway holding `token`, or None.

        The look-up is by the token's SHA-256, so its timing says nothing useful about
        the token; the final comparison is constant-time all the same.
        """
        if not token:
            return None
        digest = hash_token(token)
        gateways = schema.gateways
        with self.engine.connect() as conn:
            row = conn.execute(
                select(gateways.c.name, gateways.c.token_hash).where(
                    gateways.c.token_hash == digest
                )
            ).first()
        if row is None or not hmac.compare_digest(row.token_hash, digest):
            return None
        return row.name

    def touch(self, gateway: str, now: datetime) -> None:
        with write_transaction(self.engine) as conn:
            conn.execute(
                update(schema.gateways)
                .where(schema.gateways.c.name == gateway)
                .values(last_contact_at=now)
            )

    def gateways(self) -> list[GatewayInfo]:
        g = schema.gateways.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(g.name, g.created_at, g.last_contact_at, g.newest_event_at, g.backlog,
                       g.quarantined)
                .order_by(g.name)
            ).all()
        return [GatewayInfo(*row) for row in rows]
