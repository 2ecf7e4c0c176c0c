"""When a commit's write-ahead log reaches the disk: at the commit, or at the request's end.

With synchronous=FULL, gateway/store/sqlite_lock.py syncs the log after each commit that
changed rows, once the writer lock is free. A sync started right after the commit waits
twice: for the log's new pages to be written, then for the disk to flush its cache.

Within a `syncs_owed()` block (gateway/app.py wraps every request in one) a commit only
starts writing the log's pages back and its connection owes the sync, which the block's
end makes. The request's remaining work (its reply, Flask's response) runs while the
pages are written, and the sync then waits for the flush alone. Nothing is answered
before the block ends, so an answer still leaves only once what it answers is on disk.
Outside a block the sync is made at the commit.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol

sync_data: Callable[[int], None] = getattr(os, "fdatasync", os.fsync)  # as SQLite syncs its log

SYNC_FILE_RANGE_WRITE = 2  # <linux/fs.h>: start writeback of the range's dirty pages


class OwesSync(Protocol):
    def log_fd(self) -> int: ...

    def sync_log(self) -> None: ...


_owed: ContextVar[dict[int, OwesSync] | None] = ContextVar("civicline_owed_syncs", default=None)


def _writeback_starter() -> Callable[[int], object]:
    """sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE) where the C library has it: it
    queues the file's dirty pages for writing and returns. Its result is not checked: the
    sync that follows is what makes the pages durable, and reports any error."""
    if not sys.platform.startswith("linux"):
        return lambda fd: None
    try:
        call = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):  # pragma: no cover - a C library without it
        return lambda fd: None
    call.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    call.restype = ctypes.c_int
    return lambda fd: call(fd, 0, 0, SYNC_FILE_RANGE_WRITE)


start_writeback = _writeback_starter()


def owe(connection: OwesSync) -> bool:
    """Defer `connection`'s log sync to the end of the open `syncs_owed()` block, having
    started its writeback; False when no block is open (the caller syncs now)."""
    owed = _owed.get()
    if owed is None:
        return False
    start_writeback(connection.log_fd())
    owed[id(connection)] = connection
    return True


@contextmanager
def syncs_owed() -> Iterator[None]:
    """Commits in the block sync their log when it ends, whether or not it raised."""
    owed: dict[int, OwesSync] = {}
    token = _owed.set(owed)
    try:
        yield
    finally:
        _owed.reset(token)
        for connection in owed.values():
            connection.sync_log()
