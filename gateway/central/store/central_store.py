"""The central store: one object over the centre's database, composed of its parts by
table family (gateways.py, token_failures.py, events.py, consultations.py), and the
creation of its tables."""

from __future__ import annotations

from sqlalchemy import Engine, inspect

from gateway.central.store import final_states, schema, upgrade
from gateway.central.store.consultations import Consultations
from gateway.central.store.events import Events
from gateway.central.store.gateways import Gateways
from gateway.central.store.token_failures import TokenFailures
from gateway.database import make_engine, schema_transaction


class CentralStore(Gateways, TokenFailures, Events, Consultations):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        Consultations.__init__(self)

    @classmethod
    def from_url(cls, url: str, *, synchronous: str = "FULL") -> CentralStore:
        return cls(make_engine(url, synchronous=synchronous))

    def create_schema(self) -> None:
        """Create missing tables. In the same transaction, a store from before the
        tables were named `central_...` has them renamed first (upgrade.py), and one
        from before the final states were kept gets them computed from its events."""
        with schema_transaction(self.engine) as conn:
            upgrade.rename_previous_tables(conn, schema.metadata.sorted_tables)
            upgrading = not inspect(conn).has_table(schema.final_states.name)
            schema.metadata.create_all(conn)
            if upgrading:
                final_states.rebuild(conn)
