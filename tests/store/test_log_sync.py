"""A commit's log sync: made at the commit, or owed until the end of a syncs_owed() block."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from gateway.store import log_sync
from gateway.store.database import make_engine


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'gateway.db'}", synchronous="FULL")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    yield engine
    engine.dispose()


@pytest.fixture
def syncs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files synced, in order; each sync is still made."""
    synced: list[str] = []
    real = log_sync.sync_data

    def record(fd: int) -> None:
        real(fd)
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))

    monkeypatch.setattr(log_sync, "sync_data", record)
    return synced


def insert(engine: Engine, n: int) -> None:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})


def test_outside_a_block_the_commit_syncs(engine: Engine, syncs: list[str]) -> None:
    insert(engine, 1)
    assert syncs == [f"{engine.url.database}-wal"]


def test_in_a_block_commits_sync_once_when_it_ends(
    engine: Engine, syncs: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[str] = []
    real_start = log_sync.start_writeback
    monkeypatch.setattr(log_sync, "start_writeback", lambda fd: (
        started.append(os.readlink(f"/proc/self/fd/{fd}")), real_start(fd)))
    with log_sync.syncs_owed():
        insert(engine, 1)
        insert(engine, 2)
        assert syncs == []
        with engine.connect() as conn:  # committed: visible before it is synced
            assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 2
    wal = f"{engine.url.database}-wal"
    assert started == [wal, wal]
    assert syncs == [wal]  # one connection, kept between the two transactions


def test_a_block_that_raises_still_syncs(engine: Engine, syncs: list[str]) -> None:
    with pytest.raises(RuntimeError), log_sync.syncs_owed():
        insert(engine, 1)
        raise RuntimeError("the request failed after its commit")
    assert len(syncs) == 1


def test_a_connection_closed_in_the_block_syncs_before_closing(
    engine: Engine, syncs: list[str]
) -> None:
    with log_sync.syncs_owed():
        insert(engine, 1)
        engine.dispose()  # closes the pooled connection, which owes the sync
        assert len(syncs) == 1
    assert len(syncs) == 1  # nothing left owing at the end


def test_a_commit_that_changed_nothing_owes_nothing(engine: Engine, syncs: list[str]) -> None:
    with log_sync.syncs_owed(), engine.begin() as conn:
        conn.execute(text("SELECT count(*) FROM t"))
    assert syncs == []


def test_normal_commits_owe_nothing(tmp_path: Path, syncs: list[str]) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'gateway.db'}", synchronous="NORMAL")
    with log_sync.syncs_owed(), engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
    assert syncs == []
    engine.dispose()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="sync_file_range is Linux's")
def test_writeback_starts_on_a_file_with_dirty_pages(tmp_path: Path) -> None:
    path = tmp_path / "log"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.write(fd, b"x" * 65536)
        assert log_sync.start_writeback(fd) == 0
        log_sync.sync_data(fd)
    finally:
        os.close(fd)


def test_a_commit_made_during_the_sync_stays_owed(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another request's commit on the same connection, while this request's sync runs
    (a threaded server), is synced when that request ends, not taken as covered."""
    real = log_sync.sync_data
    synced: list[int] = []
    other_request = log_sync.syncs_owed()

    def sync(fd: int) -> None:
        if not synced:  # this request's sync: the other request commits meanwhile
            other_request.__enter__()
            insert(engine, 2)
        real(fd)
        synced.append(fd)

    monkeypatch.setattr(log_sync, "sync_data", sync)
    with log_sync.syncs_owed():
        insert(engine, 1)
    assert len(synced) == 1
    other_request.__exit__(None, None, None)
    assert len(synced) == 2
