"""Guessing gateway tokens: ten wrong ones from an address within ten minutes, then 429
for that address (whatever it sends) until the oldest guess leaves the window."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from gateway.central import schema
from gateway.central.app import create_central_app
from gateway.central.store import TOKEN_FAILURE_LIMIT, TOKEN_FAILURE_WINDOW, CentralStore
from gateway.settings import Settings

ATTACKER = "203.0.113.7"
GATEWAY = "198.51.100.20"


@dataclass
class Centre:
    store: CentralStore
    apps: list[Flask]  # two web processes on one database
    token: str

    def post(self, token: str | None, remote: str, app: int = 0) -> object:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return self.apps[app].test_client().post(
            "/api/v1/events", json={"events": [], "backlog": 0}, headers=headers,
            environ_base={"REMOTE_ADDR": remote})


@pytest.fixture
def centre(central_database_url: str) -> Iterator[Centre]:
    store = CentralStore.from_url(central_database_url)
    store.create_schema()
    token = store.add_gateway("gw-1", datetime.now(UTC))
    other = CentralStore.from_url(central_database_url)
    settings = Settings(central_database_url=central_database_url)
    yield Centre(store, [create_central_app(settings, store),
                         create_central_app(settings, other)], token)
    other.engine.dispose()
    store.engine.dispose()


def test_ten_wrong_tokens_lock_the_address_out(centre: Centre) -> None:
    for attempt in range(TOKEN_FAILURE_LIMIT):
        # Alternating web processes: the count is in the database, shared.
        response = centre.post(f"guess-{attempt}", ATTACKER, app=attempt % 2)
        assert response.status_code == 401  # type: ignore[attr-defined]
    for token in ("guess-again", centre.token, None):  # even the right one: no oracle
        locked = centre.post(token, ATTACKER)
        assert locked.status_code == 429  # type: ignore[attr-defined]
        wait = int(locked.headers["Retry-After"])  # type: ignore[attr-defined]
        assert 590 <= wait <= 600
        body = locked.get_json()  # type: ignore[attr-defined]
        assert body["error"] == "too many failed token checks"
        assert body["detail"].startswith(f"10 unknown gateway tokens from {ATTACKER} within "
                                         "10 minutes; try again in ")
    # Another address (the real gateway) is not affected.
    assert centre.post(centre.token, GATEWAY, app=1).status_code == 200  # type: ignore[attr-defined]


def test_requests_without_a_token_are_not_guesses(centre: Centre) -> None:
    for _ in range(TOKEN_FAILURE_LIMIT * 2):
        assert centre.post(None, ATTACKER).status_code == 401  # type: ignore[attr-defined]
    assert centre.post(centre.token, ATTACKER).status_code == 200  # type: ignore[attr-defined]


def test_the_lockout_ends_when_the_oldest_guess_leaves_the_window(centre: Centre) -> None:
    start = datetime.now(UTC)
    for minute in range(TOKEN_FAILURE_LIMIT):
        centre.store.record_token_failure(ATTACKER, start + timedelta(seconds=30 * minute))
    last = start + timedelta(seconds=30 * (TOKEN_FAILURE_LIMIT - 1))
    until = centre.store.token_lockout(ATTACKER, last)
    assert until == start + TOKEN_FAILURE_WINDOW
    assert centre.store.token_lockout(ATTACKER, until - timedelta(seconds=1)) == until
    assert centre.store.token_lockout(ATTACKER, until) is None
    assert centre.store.token_lockout(GATEWAY, last) is None
    # Failures older than the window are forgotten as new ones are counted.
    centre.store.record_token_failure(GATEWAY, until + TOKEN_FAILURE_WINDOW)
    with centre.store.engine.connect() as conn:
        kept = conn.execute(select(schema.token_failures.c.remote)).scalars().all()
    assert kept == [GATEWAY]


def test_tokens_are_kept_only_as_hashes(centre: Centre) -> None:
    with centre.store.engine.connect() as conn:
        stored = conn.execute(select(schema.gateways)).one()
    assert centre.token not in [str(value) for value in stored]
    assert len(stored.token_hash) == 64
