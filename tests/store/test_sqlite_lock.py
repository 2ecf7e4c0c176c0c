"""Writers on one SQLite file queue on the writer lock, across threads and processes."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path

from sqlalchemy import text

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
