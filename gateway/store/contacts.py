"""Contact lists imported on this gateway, and the numbers the provider refused for good
(suppressions). Numbers stay here; what leaves the gateway is counts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, select

from gateway.database import dialect_insert, write_transaction
from gateway.store import schema

_contact = schema.contacts.c
_suppression = schema.suppressions.c

# Provider error codes that rule a number out for good, and the reason stored.
SUPPRESSION_CODES = {21211: "invalid_number", 21614: "not_mobile"}


@dataclass(frozen=True)
class Contact:
    pseudonym: str
    phone: str
    language: str | None
    region: str | None


@dataclass(frozen=True)
class ContactList:
    name: str
    count: int
    bases: tuple[str, ...]  # every consent basis recorded for the list


class ContactStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, list_name: str, contacts: Sequence[Contact], basis: str,
            now: datetime) -> tuple[int, int]:
        """Add or update `contacts` in the list; returns (new, updated)."""
        if not basis.strip():
            raise ValueError("a consent basis is required: nobody is invited without one")
        with write_transaction(self.engine) as conn:
            known = set(conn.execute(
                select(_contact.pseudonym).where(_contact.list == list_name)).scalars())
            statement = dialect_insert(conn.dialect.name)(schema.contacts)
            statement = statement.on_conflict_do_update(
                index_elements=["list", "pseudonym"],
                set_={"phone": statement.excluded.phone,
                      "language": statement.excluded.language,
                      "region": statement.excluded.region,
                      "basis": statement.excluded.basis,
                      "imported_at": statement.excluded.imported_at},
            )
            if contacts:
                conn.execute(statement, [
                    {"list": list_name, "pseudonym": c.pseudonym, "phone": c.phone,
                     "language": c.language, "region": c.region, "basis": basis,
                     "imported_at": now}
                    for c in contacts
                ])
        updated = sum(1 for c in contacts if c.pseudonym in known)
        return len(contacts) - updated, updated

    def lists(self) -> list[ContactList]:
        query = (select(_contact.list, _contact.basis, func.count())
                 .group_by(_contact.list, _contact.basis).order_by(_contact.list))
        found: dict[str, tuple[int, list[str]]] = {}
        with self.engine.connect() as conn:
            for name, basis, count in conn.execute(query):
                total, bases = found.get(name, (0, []))
                found[name] = (total + count, [*bases, basis])
        return [ContactList(name, count, tuple(bases)) for name, (count, bases) in found.items()]

    def suppress(self, phone: str, reason: str, now: datetime) -> None:
        with write_transaction(self.engine) as conn:
            statement = dialect_insert(conn.dialect.name)(schema.suppressions)
            conn.execute(statement.on_conflict_do_update(
                index_elements=["phone"], set_={"reason": reason, "at": now},
            ), {"phone": phone, "reason": reason, "at": now})

    def suppressions(self, phones: Iterable[str] | None = None) -> dict[str, str]:
        """Reason per suppressed number (all of them, or those among `phones`)."""
        query = select(_suppression.phone, _suppression.reason)
        with self.engine.connect() as conn:
            if phones is None:
                return {phone: reason for phone, reason in conn.execute(query)}
            wanted, found = list(phones), dict[str, str]()
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                chosen = query.where(_suppression.phone.in_(chunk))
                found.update({phone: reason for phone, reason in conn.execute(chosen)})
            return found
