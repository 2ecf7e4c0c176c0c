"""The sync lease in the local store: one pass at a time, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from gateway.database import make_engine
from gateway.store.participants import LocalStore
from gateway.store.sync_state import Lease, SyncStateStore
from gateway.sync.runner import holder_alive

HOST = socket.gethostname()


@pytest.fixture
def outbox(database_url: str) -> Iterator[SyncStateStore]:
    store = LocalStore(make_engine(database_url))
    store.create_schema()
    yield SyncStateStore(store.engine)
    store.engine.dispose()


def lease(holder: str, now: datetime, seconds: float = 60, pid: int | None = None,
          host: str = HOST) -> Lease:
    return Lease(holder, host, pid or os.getpid(), now + timedelta(seconds=seconds))


def always_alive(_: Lease) -> bool:
    return True


def test_one_holder_at_a_time_until_release_or_expiry(outbox: SyncStateStore) -> None:
    now = datetime.now(UTC)
    assert outbox.acquire_lease(lease("a", now), now, always_alive) is None
    held = outbox.acquire_lease(lease("b", now), now, always_alive)
    assert held is not None and held.holder == "a"
    assert outbox.acquire_lease(lease("a", now, 120), now, always_alive) is None  # renew
    outbox.release_lease("b", now)  # not b's to release
    assert outbox.acquire_lease(lease("b", now), now, always_alive) is not None
    outbox.release_lease("a", now)
    assert outbox.acquire_lease(lease("b", now), now, always_alive) is None
    later = now + timedelta(seconds=61)
    assert outbox.acquire_lease(lease("c", later), later, always_alive) is None  # b expired


def test_a_dead_holder_on_this_host_does_not_block(outbox: SyncStateStore) -> None:
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)
    dead_pid = int(finished.stdout)
    now = datetime.now(UTC)
    outbox.acquire_lease(lease("dead", now, pid=dead_pid), now, holder_alive)
    assert not holder_alive(lease("dead", now, pid=dead_pid))
    assert outbox.acquire_lease(lease("next", now), now, holder_alive) is None
    # A live holder, or one on another host, is respected.
    assert holder_alive(lease("me", now))
    assert holder_alive(lease("far", now, pid=dead_pid, host="another-host"))


def test_racing_acquirers_get_one_lease(outbox: SyncStateStore) -> None:
    now = datetime.now(UTC)
    barrier = threading.Barrier(8)
    winners: list[str] = []

    def race(name: str) -> None:
        barrier.wait()
        if outbox.acquire_lease(lease(name, now), now, always_alive) is None:
            winners.append(name)

    threads = [threading.Thread(target=race, args=(f"h{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(winners) == 1
    assert outbox.current_lease().holder == winners[0]  # type: ignore[union-attr]
