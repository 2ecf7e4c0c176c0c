"""The count of failed gateway-token checks per address, behind the API's brute-force
limit (tests/central/test_token_limit.py has the limit as the API applies it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from gateway.central.store import schema
from gateway.central.store.central_store import CentralStore
from gateway.central.store.token_failures import TOKEN_FAILURE_LIMIT, TOKEN_FAILURE_WINDOW

ATTACKER = "203.0.113.7"
GATEWAY = "198.51.100.20"


def test_the_lockout_ends_when_the_oldest_guess_leaves_the_window(store: CentralStore) -> None:
    start = datetime.now(UTC)
    for minute in range(TOKEN_FAILURE_LIMIT):
        store.record_token_failure(ATTACKER, start + timedelta(seconds=30 * minute))
    last = start + timedelta(seconds=30 * (TOKEN_FAILURE_LIMIT - 1))
    until = store.token_lockout(ATTACKER, last)
    assert until == start + TOKEN_FAILURE_WINDOW
    assert store.token_lockout(ATTACKER, until - timedelta(seconds=1)) == until
    assert store.token_lockout(ATTACKER, until) is None
    assert store.token_lockout(GATEWAY, last) is None
    # Failures older than the window are forgotten as new ones are counted.
    store.record_token_failure(GATEWAY, until + TOKEN_FAILURE_WINDOW)
    with store.engine.connect() as conn:
        kept = conn.execute(select(schema.token_failures.c.remote)).scalars().all()
    assert kept == [GATEWAY]
