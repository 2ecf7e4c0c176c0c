"""Published consultations: publishing a new version (refused when it would lose what
responses refer to, or clash with another), the catalogue and its ETag, and the parsed
definitions the API checks events against. The SQL on `central_consultations`."""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, func, insert, select, text, update

from gateway.central.store import schema
from gateway.consultation.catalogue import parse_consultation
from gateway.consultation.model import Consultation
from gateway.consultation.reading import FlowsInvalid
from gateway.consultation.republishing import conflicts, lost_parts
from gateway.database import write_transaction

log = logging.getLogger(__name__)


class PublishRefused(ValueError):
    """Publishing would lose questions or options that responses refer to, or clash."""


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


class Consultations:
    """CentralStore's published consultations, with a cache of their parsed versions."""

    engine: Engine

    def __init__(self) -> None:
        # Parsed published consultations by (id, version): a version's text never changes.
        self._parsed: dict[tuple[str, int], Consultation | None] = {}
        self._parsed_lock = threading.Lock()

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
                conn.execute(text(f"LOCK TABLE {table.name} IN SHARE ROW EXCLUSIVE MODE"))
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
