"""The central store as one object: its parts' methods, and the creation of its tables."""

from __future__ import annotations

from sqlalchemy import inspect

from gateway.central.store import schema
from gateway.central.store.central_store import CentralStore

PUBLIC = {
    "from_url", "create_schema",
    "add_gateway", "authenticate", "touch", "gateways",  # gateways.py
    "token_lockout", "record_token_failure",  # token_failures.py
    "receive", "known_events",  # events.py
    "published_consultations", "publish", "consultations", "catalog_etag",  # consultations.py
}  # fmt: skip


def test_the_store_offers_every_part() -> None:
    assert {name for name in dir(CentralStore) if not name.startswith("_")} == PUBLIC


def test_create_schema_makes_every_table_and_may_run_again(store: CentralStore) -> None:
    assert set(schema.metadata.tables) <= set(inspect(store.engine).get_table_names())
    store.create_schema()
    assert store.consultations() == [] and store.gateways() == []
