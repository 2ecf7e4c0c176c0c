"""The gateway's store and the centre's in one database (DATABASE_URL and
CENTRAL_DATABASE_URL the same: one SQLite file, one PostgreSQL schema) or in two: both
stores make their tables, whichever starts first."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import inspect

from gateway.central.store import schema as central_schema
from gateway.central.store.central_store import CentralStore
from gateway.database import make_engine
from gateway.store import schema as gateway_schema
from gateway.store.participants import LocalStore
from tests.conftest import postgres_schema

LAYOUTS = [
    "sqlite-one-file", "sqlite-two-files", "postgresql-one-schema", "postgresql-two-schemas",
]


@dataclass(frozen=True)
class Databases:
    gateway: str  # DATABASE_URL
    centre: str  # CENTRAL_DATABASE_URL

    @property
    def shared(self) -> bool:
        return self.gateway == self.centre


@pytest.fixture(params=LAYOUTS)
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Databases]:
    kind, layout = request.param.split("-", 1)
    one = layout.startswith("one")
    if kind == "sqlite":
        gateway = f"sqlite:///{tmp_path / 'civicline.db'}"
        yield Databases(gateway, gateway if one else f"sqlite:///{tmp_path / 'central.db'}")
        return
    url = os.environ.get("DATABASE_URL_TEST")
    if not url:
        pytest.skip("DATABASE_URL_TEST not set")
    with postgres_schema(url) as gateway:
        if one:
            yield Databases(gateway, gateway)
            return
        with postgres_schema(url) as centre:
            yield Databases(gateway, centre)


def test_the_two_stores_name_no_table_alike() -> None:
    tables = set(gateway_schema.metadata.tables) & set(central_schema.metadata.tables)
    indexes = {i.name for t in gateway_schema.metadata.tables.values() for i in t.indexes} & {
        i.name for t in central_schema.metadata.tables.values() for i in t.indexes
    }
    assert (tables, indexes) == (set(), set())


@pytest.mark.parametrize("first", ["gateway", "centre"])
def test_both_stores_create_their_tables(databases: Databases, first: str) -> None:
    local = LocalStore(make_engine(databases.gateway))
    central = CentralStore.from_url(databases.centre)
    try:
        order = [local.create_schema, central.create_schema]
        for create in order if first == "gateway" else order[::-1]:
            create()
        local.create_schema()  # a restart changes nothing
        central.create_schema()
        for store, metadata in ((local, gateway_schema.metadata),
                                (central, central_schema.metadata)):
            found = inspect(store.engine)
            for table in metadata.sorted_tables:  # each as its store defines it
                columns = [c["name"] for c in found.get_columns(table.name)]
                assert columns == [c.name for c in table.columns], table.name
        gateway_tables = set(inspect(local.engine).get_table_names())
        central_tables = set(inspect(central.engine).get_table_names())
        assert (gateway_tables == central_tables) is databases.shared
    finally:
        local.engine.dispose()
        central.engine.dispose()
