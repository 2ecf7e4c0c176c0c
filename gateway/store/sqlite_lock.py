"""One writer at a time on a SQLite file, queued without polling.

BEGIN IMMEDIATE alone makes a second writer wait in SQLite's busy handler, which
sleeps in steps of up to 100 ms: under a burst of webhooks that sleep, not the work,
sets the tail latency. Holding an exclusive `flock` on `<db>-writer.lock` (and a
thread lock within the process) from BEGIN to COMMIT/ROLLBACK queues writers in the
kernel instead, which wakes the next one the moment the lock is free.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

from gateway.store import log_sync

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: threads are still serialised
    fcntl = None  # type: ignore[assignment]


class WriterLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._threads = threading.Lock()
        self._fd: int | None = None
        self._pid = 0

    def acquire(self) -> None:
        self._threads.acquire()
        try:
            if fcntl is not None:
                fcntl.flock(self._process_fd(), fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise

    def release(self) -> None:
        try:
            if fcntl is not None and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def _process_fd(self) -> int:
        # A descriptor inherited across fork shares its lock with the parent: reopen.
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd


_locks: dict[Path, WriterLock] = {}
_locks_guard = threading.Lock()


def writer_lock(database: Path) -> WriterLock:
    """The process-wide lock for one database file (engines on the same file share it)."""
    path = database.resolve().with_name(database.name + "-writer.lock")
    with _locks_guard:
        return _locks.setdefault(path, WriterLock(path))


def connection_class(lock: WriterLock) -> type[sqlite3.Connection]:
    """A sqlite3 connection that holds `lock` from BEGIN IMMEDIATE to its end.

    With `wal_to_sync` set (gateway/store/database.py sets it for synchronous=FULL in
    WAL mode), a commit that changed rows is made durable as with SQLite's own FULL, but
    the log's sync comes after the lock is released: the next writer's transaction runs
    during it instead of queueing behind it, and one sync covers every commit written
    before it. The sync is made before the commit returns, or, in a request, before the
    request answers (gateway/store/log_sync.py). Commits are appended to the log in order,
    so a commit on disk means every earlier one is too; a checkpoint syncs the database
    file before the log is reused. (Schema changes change no row and are not synced at
    once; the next row change or checkpoint syncs them, and a start makes them again.)
    """

    class SerialisedConnection(sqlite3.Connection):
        holding = False
        wal_to_sync: Path | None = None
        _changes_at_begin = 0
        _commits = 0  # commits that changed rows, counted while wal_to_sync is set
        _synced = 0  # how many of them a finished sync covers
        _wal_fd: int | None = None  # SQLite keeps the log while this connection is open

        def begin_immediate(self) -> None:
            lock.acquire()
            self.holding = True
            try:
                self.execute("BEGIN IMMEDIATE")
            except BaseException:
                self._release()
                raise
            self._changes_at_begin = self.total_changes

        def commit(self) -> None:
            wrote = self.holding and self.total_changes != self._changes_at_begin
            try:
                super().commit()
            finally:
                self._release()
            if wrote and self.wal_to_sync is not None:
                self._commits += 1
                if not log_sync.owe(self):
                    self.sync_log()

        def log_fd(self) -> int:
            if self._wal_fd is None:
                assert self.wal_to_sync is not None
                self._wal_fd = os.open(self.wal_to_sync, os.O_RDONLY)
            return self._wal_fd

        def sync_log(self) -> None:
            """Sync the log if a commit of this connection may not be on disk yet.

            Counted, not flagged: a commit that another thread makes on this connection
            while the sync runs stays owed (a lost race only costs a second sync)."""
            covered = self._commits
            if covered > self._synced:
                log_sync.sync_data(self.log_fd())
                self._synced = max(self._synced, covered)

        def rollback(self) -> None:
            try:
                super().rollback()
            finally:
                self._release()

        def close(self) -> None:
            try:
                self.sync_log()
            finally:
                try:
                    super().close()
                finally:
                    self._release()
                    if self._wal_fd is not None:
                        os.close(self._wal_fd)
                        self._wal_fd = None

        def _release(self) -> None:
            if self.holding:
                self.holding = False
                lock.release()

    return SerialisedConnection
