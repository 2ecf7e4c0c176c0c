"""Which tables and indexes each SMS webhook's commit writes: pages per commit, by b-tree.

    .venv/bin/python -m bench._wal_frames [--requests 2000] [--warmup 4000]

One process, no HTTP server: the SMS benchmark's signed webhooks through Flask's test
client on a fresh gateway store, with automatic checkpoints off so that the write-ahead
log keeps every page written after the warm-up. The log is then read frame by frame and
each page is named by its b-tree (SQLite's dbstat table). Every page a commit changes is
written to the log, synced (SQLITE_SYNCHRONOUS=FULL) and later copied into the database
by a checkpoint, so pages per commit are what the store's writes cost in I/O.

It then times, in the same directory, the system calls that append a frame: SQLite
writes the frame's header and its page with one pwrite each. What those cost per
commit depends on the machine's file system more than on the bytes written.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import struct
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from bench import _traffic
from bench._profile import (
    add_store_options,
    close_app,
    gateway_app,
    post_sms,
    set_wal_autocheckpoint,
    signed_sms,
)

WAL_HEADER = 32
FRAME_HEADER = 24


def log_pages(wal: bytes, page_size: int) -> tuple[list[int], int]:
    """The page number of every frame in a write-ahead log, and how many commits it holds."""
    pages, commits, offset = [], 0, WAL_HEADER
    while offset + FRAME_HEADER + page_size <= len(wal):
        page, size_after_commit = struct.unpack(">II", wal[offset:offset + 8])
        pages.append(page)
        commits += size_after_commit != 0  # set on a transaction's last frame only
        offset += FRAME_HEADER + page_size
    return pages, commits


def frame_write_cpu(directory: Path, page_size: int, frames: int = 20_000) -> float:
    """CPU seconds per frame appended as SQLite appends one to its log: two pwrites."""
    header, page = b"\0" * FRAME_HEADER, b"\0" * page_size
    frame = FRAME_HEADER + page_size
    fd = os.open(directory / "frames.bin", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.pwrite(fd, b"\0" * (1000 * frame), 0)  # a log of SQLite's default 1,000 pages
        started = time.process_time()
        for n in range(frames):
            offset = WAL_HEADER + (n % 1000) * frame
            os.pwrite(fd, header, offset)
            os.pwrite(fd, page, offset + FRAME_HEADER)
        return (time.process_time() - started) / frames
    finally:
        os.close(fd)


def run(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=4000)
    add_store_options(parser)
    args = parser.parse_args(argv)

    signed = signed_sms(args.flows, args.warmup + args.requests, seed=11)
    with tempfile.TemporaryDirectory(prefix="civicline-frames-") as tmp:
        app = gateway_app(Path(tmp), args.flows, args.redis_url, "NORMAL")
        set_wal_autocheckpoint(app, 0)  # no checkpoints: the log keeps every page
        client = app.test_client()

        def send(items: Sequence[_traffic.Signed]) -> None:
            for item in items:
                response = post_sms(client, item)
                if response.status_code != 200:
                    raise RuntimeError(f"HTTP {response.status_code}: {response.data[:200]!r}")

        database = Path(tmp) / "gateway.db"
        send(signed[:args.warmup])
        inspector = sqlite3.connect(database, isolation_level=None)
        inspector.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the log starts empty here
        send(signed[args.warmup:])
        wal = (Path(tmp) / "gateway.db-wal").read_bytes()
        page_size = inspector.execute("PRAGMA page_size").fetchone()[0]
        owner = dict(
            (page, name) for name, page in inspector.execute("SELECT name, pageno FROM dbstat")
        )
        rows = {table: inspector.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
                for table in ("inbound", "events", "sessions", "participants")}
        inspector.close()
        close_app(app)
        per_frame = frame_write_cpu(Path(tmp), page_size)

    pages, commits = log_pages(wal, page_size)
    print(f"{args.requests} webhooks after {args.warmup} warm-up; store then held "
          + ", ".join(f"{n} {table}" for table, n in rows.items()))
    print(f"{commits} commits wrote {len(pages)} pages of {page_size} bytes: "
          f"{len(pages) / max(commits, 1):.2f} per commit")
    for name, count in Counter(owner.get(page, "(freed since)") for page in pages).most_common():
        print(f"  {count / max(commits, 1):5.2f}  {name}")
    print(f"appending a frame (two pwrites) costs {per_frame * 1e6:.1f} µs of CPU in this "
          f"directory: {per_frame * len(pages) / max(commits, 1) * 1e6:.0f} µs per commit")


if __name__ == "__main__":
    run()
