"""Fixtures for the central store's tests: a real server on loopback, per database."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import requests

from gateway.central.app import create_central_app
from gateway.central.store import CentralStore
from gateway.settings import Settings
from tests.live import (  # noqa: F401 - a fixture
    LiveServer,
    central_database_url,
    publish_fixture_flows,
)

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
def central(central_database_url: str) -> Iterator[CentralServer]:  # noqa: F811
    settings = Settings(central_database_url=central_database_url)
    store = CentralStore.from_url(central_database_url)
    store.create_schema()
    token = store.add_gateway("gw-1", datetime.now(UTC))
    publish_fixture_flows(store)  # what make_event's events answer
    with LiveServer(create_central_app(settings, store)) as server:
        yield CentralServer(store, server, token)
    store.engine.dispose()
