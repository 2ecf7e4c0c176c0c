"""The central store for officials' tests: a SQLite file, and a fresh PostgreSQL schema
when DATABASE_URL_TEST is set (tests/live.py's `central_database_url`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from gateway.central.schema import metadata
from gateway.settings import Settings
from gateway.store.database import make_engine
from tests.live import central_database_url  # noqa: F401 - a fixture


@pytest.fixture
def central_url(central_database_url: str) -> str:  # noqa: F811
    return central_database_url


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
        data_dir=tmp_path,
        small_cell_k=5,
    )
