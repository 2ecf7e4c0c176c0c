"""The sync's state in the local store: the gateway_state table, the lease kept in it and
the consultations fetched from the centre, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from gateway.database import make_engine
from gateway.store.participants import LocalStore
from gateway.store.sync_state import CachedConsultation, Lease, SyncStateStore

HOST = socket.gethostname()


@pytest.fixture
def sync_state(database_url: str) -> Iterator[SyncStateStore]:
    store = LocalStore(make_engine(database_url))
    store.create_schema()
    yield SyncStateStore(store.engine)
    store.engine.dispose()


def lease(holder: str, now: datetime, seconds: float = 60, pid: int | None = None,
          host: str = HOST) -> Lease:
    return Lease(holder, host, pid or os.getpid(), now + timedelta(seconds=seconds))


def always_alive(_: Lease) -> bool:
    return True


def test_one_holder_at_a_time_until_release_or_expiry(sync_state: SyncStateStore) -> None:
    now = datetime.now(UTC)
    assert sync_state.acquire_lease(lease("a", now), now, always_alive) is None
    held = sync_state.acquire_lease(lease("b", now), now, always_alive)
    assert held is not None and held.holder == "a"
    assert sync_state.acquire_lease(lease("a", now, 120), now, always_alive) is None  # renew
    sync_state.release_lease("b", now)  # not b's to release
    assert sync_state.acquire_lease(lease("b", now), now, always_alive) is not None
    sync_state.release_lease("a", now)
    assert sync_state.acquire_lease(lease("b", now), now, always_alive) is None
    later = now + timedelta(seconds=61)
    assert sync_state.acquire_lease(lease("c", later), later, always_alive) is None  # b expired


def test_racing_acquirers_get_one_lease(sync_state: SyncStateStore) -> None:
    now = datetime.now(UTC)
    barrier = threading.Barrier(8)
    winners: list[str] = []

    def race(name: str) -> None:
        barrier.wait()
        if sync_state.acquire_lease(lease(name, now), now, always_alive) is None:
            winners.append(name)

    threads = [threading.Thread(target=race, args=(f"h{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(winners) == 1
    assert sync_state.current_lease().holder == winners[0]  # type: ignore[union-attr]


def test_values_are_written_over_and_read_by_key(sync_state: SyncStateStore) -> None:
    now = datetime.now(UTC)
    sync_state.set_state({"a": "1", "b": "2"}, now)
    sync_state.set_state({"a": "3"}, now)
    assert sync_state.state(["a"]) == {"a": "3"}
    assert sync_state.state() == {"a": "3", "b": "2"}


def test_the_fetched_consultations_and_their_etag_are_replaced_together(
    sync_state: SyncStateStore,
) -> None:
    assert sync_state.cached_consultations() == (None, [])
    assert sync_state.catalog_etag() is None
    now = datetime.now(UTC)
    first = [CachedConsultation("water", 1, "id: water"), CachedConsultation("roads", 2, "")]
    sync_state.replace_consultations(first, '"set-1"', now)
    assert sync_state.cached_consultations() == ('"set-1"', sorted(first, key=lambda c: c.id))
    sync_state.replace_consultations([], '"set-2"', now)
    assert sync_state.cached_consultations() == ('"set-2"', [])
    assert sync_state.catalog_etag() == '"set-2"'
