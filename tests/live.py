"""Real servers on loopback, central databases beside the gateway's, and event makers."""

from __future__ import annotations

import hashlib
import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import BaseWSGIServer, make_server

CIVICLINE = str(Path(sys.executable).parent / "civicline")

WsgiApp = Callable[..., Any]


class LiveServer:
    """A WSGI app served by werkzeug in a thread, on 127.0.0.1.

    `port` may be given so that a server can come back on the address a gateway was
    configured with (the centre "returning" after an outage).
    """

    def __init__(self, app: WsgiApp, port: int = 0) -> None:
        self.server: BaseWSGIServer = make_server("127.0.0.1", port, app, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)

    def __enter__(self) -> LiveServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def free_port() -> int:
    """A loopback port nobody listens on (now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def central_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """The centre's database, of the same kind as the gateway's `database_url`: a second
    SQLite file, or a second PostgreSQL schema (both stores have an `events` table)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'central.db'}"
        return
    from tests.conftest import postgres_schema

    with postgres_schema(os.environ["DATABASE_URL_TEST"]) as url:
        yield url


def pseudonym_for(n: int) -> str:
    return hashlib.sha256(f"participant-{n}".encode()).hexdigest()


def make_event(n: int = 0, **overrides: Any) -> dict[str, Any]:
    """One valid response event as a gateway sends it."""
    event = {
        "event_id": str(uuid.uuid4()),
        "consultation_id": "water-test",
        "question_id": "priority",
        "pseudonym": pseudonym_for(n),
        "channel": "sms",
        "status": "answered",
        "value": ["water", "roads", "clinics", "schools"][n % 4],
        "raw": str(n % 4 + 1),
        "language": "en",
        "answered_at": (datetime(2026, 6, 1, 9, 0, tzinfo=UTC) + timedelta(seconds=n))
        .isoformat(),
        "region": "KE-047",
    }
    event.update(overrides)
    return event


def publish_fixture_flows(store: Any) -> None:
    """Publish the fixture consultations (tests/fixtures/flows) at a central store, as a
    deployment publishes what its gateways serve: the centre refuses events for
    consultations it does not have."""
    from tests.conftest import FIXTURE_FLOWS

    for path in sorted(FIXTURE_FLOWS.glob("*.yaml")):
        store.publish(path.read_text(encoding="utf-8"), path.name, datetime.now(UTC))


def wait_until(predicate: Callable[[], object], timeout: float = 20.0,
               interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


def cli_env(settings_env: dict[str, str]) -> dict[str, str]:
    """The environment for a `civicline` subprocess: ours minus CivicLine settings."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CENTRAL_", "DATABASE_URL", "REDIS_URL", "SYNC_"))}
    env.update(settings_env)
    return env


def settings_env(**values: object) -> dict[str, str]:
    return {name.upper(): str(value) for name, value in values.items()}


def all_ids(rows: Iterable[Any]) -> list[str]:
    return [row.event_id for row in rows]
