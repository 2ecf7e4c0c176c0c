"""The sync lease in the local store: one pass at a time, on SQLite and PostgreSQL."""

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
from gateway.sync.runner import holder_alive

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
