"""The central store for officials' tests: a SQLite file, and a fresh PostgreSQL schema
when DATABASE_URL_TEST is set (the `database_url` pattern of tests/conftest.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from gateway.central.schema import metadata
from gateway.settings import Settings
from gateway.store.database import make_engine
from tests.conftest import postgres_schema


@pytest.fixture(params=["sqlite", "postgresql"])
def central_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'central.db'}"
        return
    url = os.environ.get("DATABASE_URL_TEST")
    if not url:
        pytest.skip("DATABASE_URL_TEST not set")
    with postgres_schema(url) as schema_url:
        yield schema_url


@pytest.fixture
def central_engine(central_url: str) -> Iterator[Engine]:
    engine = make_engine(central_url)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def officials_settings(tmp_path: Path, central_url: str) -> Settings:
    return Settings(
        central_database_url=central_url,
        database_url=f"sqlite:///{tmp_path / 'gateway.db'}",
        secret_key="officials-test-secret-key-0123456789",
        small_cell_k=5,
    )
