"""The central store's SQL: gateways and their tokens, event batches, published consultations."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    Connection,
    DateTime,
    Engine,
    case,
    delete,
    func,
    insert,
    inspect,
    literal,
    or_,
    select,
    text,
    update,
)

from gateway.central.store import final_states, schema
from gateway.central.validation import Batch
from gateway.consultation.catalogue import parse_consultation
from gateway.consultation.model import Consultation
from gateway.consultation.reading import FlowsInvalid
from gateway.consultation.republishing import conflicts, lost_parts
from gateway.database import (
    insert_ignoring,
    make_engine,
    schema_transaction,
    write_transaction,
)

log = logging.getLogger(__name__)

GATEWAY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
TOKEN_FAILURE_LIMIT = 10  # failed token checks from one address ...
TOKEN_FAILURE_WINDOW = timedelta(minutes=10)  # ... within this long lock it out


class GatewayExists(ValueError):
    """A gateway of that name already has a token."""


class PublishRefused(ValueError):
    """Publishing would lose questions or options that responses refer to, or clash."""


@dataclass(frozen=True)
class Receipt:
    new: int
    known: int


@dataclass(frozen=True)
class Published:
    id: str
    version: int
    definition: str
    published_at: datetime | None = None


@dataclass(frozen=True)
class PublishOutcome:
    id: str
    version: int
    changed: bool  # False when the same text was already the current version


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


_EVENT_ARRAYS = (
    ("event_id", "text"), ("consultation_id", "text"), ("question_id", "text"),
    ("pseudonym", "text"), ("channel", "text"), ("status", "text"), ("value", "text"),
    ("raw", "text"), ("language", "text"), ("answered_at", "timestamptz"), ("region", "text"),
)
_POSTGRESQL_INSERT = text(
    "INSERT INTO events (" + ", ".join(name for name, _ in _EVENT_ARRAYS)
    + ", gateway, received_at) SELECT *, CAST(:gateway AS text), CAST(:received_at AS "
    "timestamptz) FROM unnest("
    + ", ".join(f"CAST(:{name} AS {kind}[])" for name, kind in _EVENT_ARRAYS)
    + ") ON CONFLICT (event_id) DO NOTHING RETURNING event_id"
)


def _insert_events_postgresql(
    conn: Connection, gateway: str, events: list[dict[str, object]], now: datetime
) -> set[str]:
    """The batch as one array per column: one statement whatever the batch size, where
    a multi-row VALUES list costs psycopg a parse of thousands of placeholders. Returns
    the ids of the events that were new."""
    params: dict[str, object] = {name: [e[name] for e in events] for name, _ in _EVENT_ARRAYS}
    params.update(gateway=gateway, received_at=now)
    return set(conn.execute(_POSTGRESQL_INSERT, params).scalars())


class CentralStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # Parsed published consultations by (id, version): a version's text never changes.
        self._parsed: dict[tuple[str, int], Consultation | None] = {}
        self._parsed_lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, *, synchronous: str = "FULL") -> CentralStore:
        return cls(make_engine(url, synchronous=synchronous))

    def create_schema(self) -> None:
        """Create missing tables. A store upgraded from before the final states were
        kept gets them computed from its events, in the same transaction."""
        with schema_transaction(self.engine) as conn:
            upgrading = not inspect(conn).has_table(schema.final_states.name)
            schema.metadata.create_all(conn)
            if upgrading:
                final_states.rebuild(conn)

    # --- gateways -------------------------------------------------------------------------

    def add_gateway(self, name: str, now: datetime, *, replace: bool = False) -> str:
        """A new token for gateway `name`; only its SHA-256 is kept. Returns the token."""
        if GATEWAY_NAME.fullmatch(name) is None:
            raise ValueError(
                f"gateway name {name!r}: use letters, digits, '.', '_' or '-' (at most 64)"
            )
        token = secrets.token_urlsafe(32)
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

    def token_lockout(self, remote: str, now: datetime) -> datetime | None:
        """Until when `remote` may not present tokens: it failed TOKEN_FAILURE_LIMIT
        times within TOKEN_FAILURE_WINDOW. None when it may.

        Kept in the central database, so every web process and every restart agree.
        """
        f = schema.token_failures.c
        with self.engine.connect() as conn:
            recent = conn.execute(
                select(f.failed_at)
                .where(f.remote == remote[:64], f.failed_at > now - TOKEN_FAILURE_WINDOW)
                .order_by(f.failed_at.desc())
                .limit(TOKEN_FAILURE_LIMIT)
            ).scalars().all()
        if len(recent) < TOKEN_FAILURE_LIMIT:
            return None
        oldest = min(recent)
        oldest = oldest if oldest.tzinfo is not None else oldest.replace(tzinfo=UTC)
        return oldest + TOKEN_FAILURE_WINDOW

    def record_token_failure(self, remote: str, now: datetime) -> None:
        """Count one failed token check from `remote`; forget those out of the window."""
        failures = schema.token_failures
        with write_transaction(self.engine) as conn:
            conn.execute(
                delete(failures).where(failures.c.failed_at <= now - TOKEN_FAILURE_WINDOW)
            )
            conn.execute(insert(failures).values(remote=remote[:64], failed_at=now))

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

    # --- events ---------------------------------------------------------------------------

    def receive(self, gateway: str, batch: Batch, now: datetime) -> Receipt:
        """Store a validated batch in one transaction; events already known are skipped.

        The unique key on event_id decides, not a prior look-up, so two deliveries of
        one event racing each other still store it once.
        """
        events = schema.events
        new: set[str] = set()
        with write_transaction(self.engine) as conn:
            if batch.events and conn.dialect.name == "postgresql":
                new = _insert_events_postgresql(conn, gateway, batch.events, now)
            elif batch.events:
                rows = [{**e, "gateway": gateway, "received_at": now} for e in batch.events]
                statement = insert_ignoring(conn.dialect.name, events).returning(events.c.event_id)
                new = set(conn.execute(statement, rows).scalars())
            final_states.record(conn, (e for e in batch.events if e["event_id"] in new))
            g = schema.gateways.c
            values: dict[str, object] = {"last_contact_at": now}
            if batch.backlog is not None:
                values["backlog"] = batch.backlog
            if batch.quarantined is not None:
                values["quarantined"] = batch.quarantined
            if batch.events:
                newest = literal(
                    max(e["answered_at"] for e in batch.events), DateTime(timezone=True)
                )
                values["newest_event_at"] = case(
                    (or_(g.newest_event_at.is_(None), g.newest_event_at < newest), newest),
                    else_=g.newest_event_at,
                )
            conn.execute(update(schema.gateways).where(g.name == gateway).values(**values))
        return Receipt(new=len(new), known=len(batch.events) - len(new))

    def known_events(self, event_ids: Iterable[str]) -> set[str]:
        """Those of `event_ids` (canonical) the centre has stored."""
        wanted = sorted(set(event_ids))
        found: set[str] = set()
        e = schema.events.c
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                found.update(conn.execute(
                    select(e.event_id).where(e.event_id.in_(chunk))
                ).scalars())
        return found

    # --- consultations --------------------------------------------------------------------

    def published_consultations(self) -> dict[str, Consultation | None]:
        """Every published consultation, parsed (None when its text no longer validates).

        One small query per call; a definition is parsed once per (id, version), so a
        batch of events costs no YAML parsing unless a consultation was republished.
        """
        table = schema.consultations.c
        with self.engine.connect() as conn:
            versions = [(r.id, r.version) for r in conn.execute(select(table.id, table.version))]
            with self._parsed_lock:
                parsed = {cid: self._parsed[(cid, v)] for cid, v in versions
                          if (cid, v) in self._parsed}
            missing = [cid for cid, _ in versions if cid not in parsed]
            rows = conn.execute(
                select(table.id, table.version, table.definition).where(table.id.in_(missing))
            ).all() if missing else []
        fresh = {(r.id, r.version): _parse_published(r.id, r.definition) for r in rows}
        current = dict(versions) | dict(fresh.keys())  # id -> the version just read
        with self._parsed_lock:
            self._parsed.update(fresh)
            for key in [k for k in self._parsed if current.get(k[0], k[1]) != k[1]]:
                del self._parsed[key]  # another version than the published one
        parsed.update({cid: consultation for (cid, _), consultation in fresh.items()})
        return parsed

    def publish(self, definition: str, source: str, now: datetime) -> PublishOutcome:
        """Validate and store a consultation as its next version.

        Raises FlowsInvalid (as the loader reports it) or PublishRefused.
        """
        consultation = parse_consultation(definition, source)
        table = schema.consultations
        with write_transaction(self.engine) as conn:
            if conn.dialect.name == "postgresql":
                # Publishes are rare: one at a time keeps the keyword check honest.
                conn.execute(text("LOCK TABLE consultations IN SHARE ROW EXCLUSIVE MODE"))
            rows = {r.id: r for r in conn.execute(select(table)).all()}
            current = rows.get(consultation.id)
            if current is not None and current.definition == definition:
                return PublishOutcome(consultation.id, current.version, changed=False)
            others = [
                _parse_published(r.id, r.definition) for r in rows.values()
                if r.id != consultation.id
            ]
            problems = conflicts(consultation, [c for c in others if c is not None])
            if current is not None:
                problems.extend(self._losses(conn, current.id, current.definition, consultation))
            if problems:
                raise PublishRefused(f"{source}: cannot publish {consultation.id!r}: "
                                     + "; ".join(problems))
            if current is None:
                version = 1
                conn.execute(
                    insert(table).values(
                        id=consultation.id, version=version, definition=definition,
                        published_at=now,
                    )
                )
            else:
                version = current.version + 1
                conn.execute(
                    update(table)
                    .where(table.c.id == consultation.id)
                    .values(version=version, definition=definition, published_at=now)
                )
        return PublishOutcome(consultation.id, version, changed=True)

    def _losses(
        self, conn: Connection, consultation_id: str, old_definition: str, new: Consultation
    ) -> list[str]:
        responses = conn.execute(
            select(func.count())
            .select_from(schema.events)
            .where(schema.events.c.consultation_id == consultation_id)
        ).scalar_one()
        if responses == 0:
            return []
        old = _parse_published(consultation_id, old_definition)
        if old is None:
            return [
                f"the published version no longer validates, so what the {responses} "
                "responses refer to cannot be checked"
            ]
        lost = lost_parts(old, new)
        if not lost:
            return []
        return [
            f"{responses} responses refer to the published version; this would remove "
            + ", ".join(lost)
            + " (a consultation with responses can gain questions and options, not lose them)"
        ]

    def consultations(self) -> list[Published]:
        table = schema.consultations.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(table.id, table.version, table.definition, table.published_at)
                .order_by(table.id)
            ).all()
        return [Published(*row) for row in rows]

    def catalog_etag(self) -> str:
        """Changes whenever any consultation is (re)published; cheap to compute."""
        table = schema.consultations.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(table.id, table.version, table.published_at).order_by(table.id)
            ).all()
        digest = hashlib.sha256()
        for row in rows:
            stamp = row.published_at.replace(tzinfo=None).isoformat() if row.published_at else ""
            digest.update(f"{row.id}\t{row.version}\t{stamp}\n".encode())
        return digest.hexdigest()[:32]


def _parse_published(consultation_id: str, definition: str) -> Consultation | None:
    try:
        return parse_consultation(definition, f"published consultation {consultation_id}")
    except FlowsInvalid as exc:
        log.error("published consultation %s no longer validates: %s", consultation_id, exc)
        return None
