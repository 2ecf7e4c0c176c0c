"""Guessing gateway tokens: ten wrong ones from an address within ten minutes, then 429
for that address until the oldest guess leaves the window, for anything but a correct
token: a real gateway sharing the address (127.0.0.1 behind a local proxy, the embedded
centre's own sync) is never locked out by someone else's guesses."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import select

from gateway.central.app import create_central_app
from gateway.central.store import schema
from gateway.central.store.central_store import CentralStore
from gateway.central.store.token_failures import TOKEN_FAILURE_LIMIT
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
    for token in ("guess-again", None):  # a correct token passes: see the next test
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


def test_a_correct_token_is_accepted_whatever_its_address_failed(centre: Centre) -> None:
    """The gateway behind the same address as a guesser (a same-host proxy, the embedded
    centre's in-process sync: both 127.0.0.1) keeps syncing; the guesser stays throttled."""
    shared = "127.0.0.1"
    for attempt in range(2 * TOKEN_FAILURE_LIMIT):  # 20 wrong: 10 counted, then 429s
        response = centre.post(f"guess-{attempt}", shared, app=attempt % 2)
        expected = 401 if attempt < TOKEN_FAILURE_LIMIT else 429
        assert response.status_code == expected  # type: ignore[attr-defined]
    for app in (0, 1):
        accepted = centre.post(centre.token, shared, app=app)
        assert accepted.status_code == 200, accepted.get_json()  # type: ignore[attr-defined]
    wrong = centre.post("guess-21", shared)  # the 21st wrong one
    assert wrong.status_code == 429  # type: ignore[attr-defined]
    assert 590 <= int(wrong.headers["Retry-After"]) <= 600  # type: ignore[attr-defined]
    with centre.store.engine.connect() as conn:  # throttled guesses are not stored
        kept = conn.execute(select(schema.token_failures.c.remote)).scalars().all()
    assert kept == [shared] * TOKEN_FAILURE_LIMIT


def test_requests_without_a_token_are_not_guesses(centre: Centre) -> None:
    for _ in range(TOKEN_FAILURE_LIMIT * 2):
        assert centre.post(None, ATTACKER).status_code == 401  # type: ignore[attr-defined]
    assert centre.post(centre.token, ATTACKER).status_code == 200  # type: ignore[attr-defined]
