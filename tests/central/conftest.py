"""Fixtures for the central store's tests: a real server on loopback, and the centre's
database for the store and the officials' side (a SQLite file, and a fresh PostgreSQL
schema when DATABASE_URL_TEST is set)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from sqlalchemy import Engine

from gateway.central.app import create_central_app
from gateway.central.officials.export_runner import exports_folder
from gateway.central.store.central_store import CentralStore
from gateway.central.store.export_jobs import ExportJobs
from gateway.central.store.schema import metadata
from gateway.database import make_engine
from gateway.settings import Settings
from tests.live import LiveServer, publish_fixture_flows

__all__ = ["CentralServer"]


@dataclass
class CentralServer:
    store: CentralStore
    server: LiveServer
    token: str  # gateway "gw-1"

    @property
    def url(self) -> str:
        return self.server.url

    def post_events(self, events: list[dict], *, token: str | None = None,
                    backlog: int | None = 0, reads_refusals: bool = True,
                    **kwargs: object) -> requests.Response:
        """POST a batch as a gateway does (one from before per-event refusals with
        `reads_refusals=False`)."""
        payload: dict[str, object] = {"events": events}
        if reads_refusals:
            payload["per_event_refusals"] = True
        if backlog is not None:
            payload["backlog"] = backlog
        return requests.post(
            self.url + "/api/v1/events", json=payload, timeout=30,
            headers={"Authorization": f"Bearer {token or self.token}"}, **kwargs,  # type: ignore[arg-type]
        )


@pytest.fixture
def central(central_database_url: str) -> Iterator[CentralServer]:
    settings = Settings(central_database_url=central_database_url)
    store = CentralStore.from_url(central_database_url)
    store.create_schema()
    token = store.add_gateway("gw-1", datetime.now(UTC))
    publish_fixture_flows(store)  # what make_event's events answer
    with LiveServer(create_central_app(settings, store)) as server:
        yield CentralServer(store, server, token)
    store.engine.dispose()


@pytest.fixture
def central_url(central_database_url: str) -> str:
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


@pytest.fixture
def jobs(central_engine: Engine, officials_settings: Settings) -> ExportJobs:
    """Export jobs in the centre's database, their files where the dashboard keeps them."""
    return ExportJobs(central_engine, exports_folder(officials_settings))
