"""Writers on one SQLite file queue on the writer lock, across threads and processes."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from gateway.store import log_sync
from gateway.store.database import make_engine
from gateway.store.sqlite_lock import writer_lock


def _hold_lock(path: str, ready, release) -> None:  # runs in a child process
    lock = writer_lock(Path(path))
    lock.acquire()
    ready.set()
    release.wait(10)
    lock.release()


def test_a_second_process_waits_for_the_first(tmp_path: Path) -> None:
    database = tmp_path / "gateway.db"
    engine = make_engine(f"sqlite:///{database}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    context = multiprocessing.get_context("spawn")
    ready, release = context.Event(), context.Event()
    child = context.Process(target=_hold_lock, args=(str(database), ready, release))
    child.start()
    try:
        assert ready.wait(30)
        done = threading.Event()

        def write() -> None:
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO t VALUES (1)"))
            done.set()

        writer = threading.Thread(target=write)
        writer.start()
        assert not done.wait(0.5)  # queued behind the other process
        release.set()
        assert done.wait(10)
        writer.join()
    finally:
        release.set()
        child.join(10)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 1


def test_lock_is_released_on_rollback_and_error(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'gateway.db'}")
    for _ in range(3):
        try:
            with engine.begin() as conn:
                conn.execute(text("SELECT 1"))
                raise RuntimeError("boom")
        except RuntimeError:
            pass
    started = time.monotonic()
    with engine.begin() as conn:  # would hang if a failed transaction kept the lock
        conn.execute(text("SELECT 1"))
    assert time.monotonic() - started < 1


def test_full_commit_syncs_the_log_after_the_lock_is_released(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """synchronous=FULL: SQLite syncs only at checkpoints; every commit that changed rows
    syncs the write-ahead log itself before returning, with the writer lock already free."""
    database = tmp_path / "gateway.db"
    engine = make_engine(f"sqlite:///{database}", synchronous="FULL")
    lock = writer_lock(database)
    synced: list[tuple[str, bool]] = []

    def record(fd: int) -> None:
        free = lock._threads.acquire(blocking=False)
        if free:
            lock._threads.release()
        synced.append((os.readlink(f"/proc/self/fd/{fd}"), free))

    monkeypatch.setattr(log_sync, "sync_data", record)
    with engine.begin() as conn:
        assert conn.execute(text("PRAGMA synchronous")).scalar_one() == 1  # NORMAL
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
    with engine.begin() as conn:  # changed no row: nothing to sync
        conn.execute(text("SELECT count(*) FROM t"))
    assert synced == [(f"{database}-wal", True)]
    engine.dispose()


def test_normal_commits_do_not_sync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'gateway.db'}", synchronous="NORMAL")
    monkeypatch.setattr(log_sync, "sync_data", lambda fd: pytest.fail("synced"))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
        assert conn.execute(text("PRAGMA synchronous")).scalar_one() == 1
    engine.dispose()
