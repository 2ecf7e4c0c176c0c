"""The sync lease: one pass at a time, a dead holder on this host does not block, and a
pass whose lease was taken stops; on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from gateway.database import make_engine
from gateway.store.participants import LocalStore
from gateway.store.sync_state import Lease, SyncStateStore
from gateway.sync.lease import LEASE_SECONDS, LeaseLost, SyncLease, holder_alive

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


def test_a_dead_holder_on_this_host_does_not_block(sync_state: SyncStateStore) -> None:
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)
    dead_pid = int(finished.stdout)
    now = datetime.now(UTC)
    sync_state.acquire_lease(lease("dead", now, pid=dead_pid), now, holder_alive)
    assert not holder_alive(lease("dead", now, pid=dead_pid))
    assert sync_state.acquire_lease(lease("next", now), now, holder_alive) is None
    # A live holder, or one on another host, is respected.
    assert holder_alive(lease("me", now))
    assert holder_alive(lease("far", now, pid=dead_pid, host="another-host"))


def test_a_pass_takes_renews_and_releases_its_lease(sync_state: SyncStateStore) -> None:
    now = datetime.now(UTC)
    first, second = SyncLease(sync_state), SyncLease(sync_state)
    assert first.take(now) is None
    held = second.take(now)
    assert held is not None and held.holder == first.holder  # busy: another pass holds it
    first.renew()  # not half used: nothing written
    assert sync_state.current_lease().expires_at == held.expires_at  # type: ignore[union-attr]
    first.release()
    assert second.take(now) is None


def test_a_pass_whose_lease_was_taken_stops(sync_state: SyncStateStore) -> None:
    """Ours expired (a pass stalled past LEASE_SECONDS) and another took it: renewing raises."""
    long_ago = datetime.now(UTC) - timedelta(seconds=2 * LEASE_SECONDS)
    stalled, other = SyncLease(sync_state), SyncLease(sync_state)
    assert stalled.take(long_ago) is None
    assert other.take(datetime.now(UTC)) is None  # the stalled one's had expired
    with pytest.raises(LeaseLost):
        stalled.renew()
    stalled.release()  # not its lease any more: the other keeps it
    assert sync_state.current_lease().holder == other.holder  # type: ignore[union-attr]
