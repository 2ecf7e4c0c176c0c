"""The central store on the centre's database (tests/live.py central_database_url): a
SQLite file, and a PostgreSQL schema when DATABASE_URL_TEST is set."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.central.store.central_store import CentralStore


@pytest.fixture
def store(central_database_url: str) -> Iterator[CentralStore]:
    store = CentralStore.from_url(central_database_url)
    store.create_schema()
    yield store
    store.engine.dispose()
