"""A small, cheap HTTP/1.1 load client on raw sockets: closed loop and open loop.

Requests are pre-built bytes; each worker thread owns one connection (kept alive when the
server allows it, reopened when it answers `Connection: close` as gunicorn's sync workers
do). Parsing is limited to the status line, Content-Length and Connection headers.

Open loop: request i is due at start + i / rate whatever happened before. Any idle thread
takes the next due request; its latency is measured from the due time, not from when it
was sent, so a stalled server is charged for the requests that queued behind it
(no coordinated omission). The send lag (sent - due) is reported apart: when it stays
small the client kept to the schedule and was not the bottleneck. A request still unsent
`grace` seconds after the schedule ends is not sent at all (the run stays bounded when
the server cannot keep up) and counts as unanswered: infinite latency in the percentiles.
"""

from __future__ import annotations

import math
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

RECV_BYTES = 65536


class _Closed(Exception):
    """The server closed the connection before a whole response arrived."""


class Connection:
    def __init__(self, port: int, timeout: float) -> None:
        self.port = port
        self.timeout = timeout
        self.sock: socket.socket | None = None

    def _open(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        return sock

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def exchange(self, request: bytes) -> tuple[int, bytes]:
        """Send one request, read its response; retry once on a stale kept-alive socket."""
        reused = self.sock is not None
        try:
            return self._exchange(self.sock or self._open(), request)
        except (_Closed, ConnectionError):
            self.close()
            if not reused:
                raise
        return self._exchange(self._open(), request)

    def _exchange(self, sock: socket.socket, request: bytes) -> tuple[int, bytes]:
        sock.sendall(request)
        buffer = b""
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end >= 0:
                break
            chunk = sock.recv(RECV_BYTES)
            if not chunk:
                raise _Closed
            buffer += chunk
        head = buffer[:end].lower()
        body = buffer[end + 4:]
        status = int(head[9:12])
        length = 0
        at = head.find(b"\r\ncontent-length:")
        if at >= 0:
            stop = head.find(b"\r\n", at + 2)
            length = int(head[at + 17:stop if stop >= 0 else len(head)])
        while len(body) < length:
            chunk = sock.recv(RECV_BYTES)
            if not chunk:
                raise _Closed
            body += chunk
        if b"\r\nconnection: close" in head:
            self.close()
        return status, body


@dataclass
class Result:
    sent: int = 0
    elapsed: float = 0.0  # seconds from the first due time to the last response
    latencies: list[float] = field(default_factory=list)  # seconds, completed requests
    lags: list[float] = field(default_factory=list)  # open loop: sent - due, seconds
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    replies: int = 0  # responses carrying a <Message>
    unsent: int = 0  # open loop: dropped because the schedule was `grace` s behind

    @property
    def completed(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.completed / self.elapsed if self.elapsed > 0 else 0.0

    def merge(self, other: Result) -> None:
        self.sent += other.sent
        self.latencies += other.latencies
        self.lags += other.lags
        self.statuses.update(other.statuses)
        self.errors.update(other.errors)
        self.replies += other.replies
        self.unsent += other.unsent


def percentile(values: Sequence[float], pct: float, missing: int = 0) -> float:
    """Nearest-rank percentile (pct in 0..100), `missing` more values counted as infinite."""
    if not values and not missing:
        return 0.0
    ordered = sorted(values) + [math.inf] * missing
    rank = max(0, min(len(ordered) - 1, math.ceil(pct / 100 * len(ordered)) - 1))
    return ordered[rank]


class _Dispenser:
    """Hands out request indices to worker threads, in order, up to a limit."""

    def __init__(self, limit: int) -> None:
        self._next = 0
        self._limit = limit
        self._lock = threading.Lock()

    def take(self) -> int | None:
        with self._lock:
            if self._next >= self._limit:
                return None
            index = self._next
            self._next += 1
            return index


def _run_threads(connections: int, target: Callable[[], None]) -> None:
    threads = [threading.Thread(target=target, daemon=True) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _record(result: Result, status: int, body: bytes) -> None:
    result.statuses[status] += 1
    if b"<Message" in body:
        result.replies += 1


def closed_loop(port: int, requests: Sequence[bytes], *, connections: int, duration: float,
                timeout: float = 15.0) -> Result:
    """As fast as `connections` connections go: until every request is sent or time is up."""
    dispenser = _Dispenser(len(requests))
    results: list[Result] = []
    start = time.perf_counter()
    stop_at = start + duration

    def worker() -> None:
        mine = Result()
        conn = Connection(port, timeout)
        perf = time.perf_counter
        while perf() < stop_at:
            index = dispenser.take()
            if index is None:
                break
            mine.sent += 1
            began = perf()
            try:
                status, body = conn.exchange(requests[index])
            except (OSError, _Closed, ValueError) as exc:
                mine.errors[type(exc).__name__] += 1
                conn.close()
                continue
            mine.latencies.append(perf() - began)
            _record(mine, status, body)
        conn.close()
        results.append(mine)  # list.append is atomic

    _run_threads(connections, worker)
    total = Result(elapsed=time.perf_counter() - start)
    for part in results:
        total.merge(part)
    return total


def open_loop(port: int, requests: Sequence[bytes], *, rate: float, duration: float,
              connections: int, grace: float = 5.0, timeout: float = 15.0) -> Result:
    """Request i due at start + i/rate for `duration` seconds; latency from the due time."""
    count = min(len(requests), int(rate * duration))
    dispenser = _Dispenser(count)
    results: list[Result] = []
    start = time.perf_counter() + 0.1  # let every thread get going first
    interval = 1.0 / rate
    give_up = start + duration + grace

    def worker() -> None:
        mine = Result()
        conn = Connection(port, timeout)
        perf = time.perf_counter
        while True:
            index = dispenser.take()
            if index is None:
                break
            due = start + index * interval
            wait = due - perf()
            if wait > 0:
                time.sleep(wait)
            elif perf() > give_up:
                mine.unsent += 1
                continue
            mine.sent += 1
            mine.lags.append(perf() - due)
            try:
                status, body = conn.exchange(requests[index])
            except (OSError, _Closed, ValueError) as exc:
                mine.errors[type(exc).__name__] += 1
                conn.close()
                continue
            mine.latencies.append(perf() - due)
            _record(mine, status, body)
        conn.close()
        results.append(mine)

    _run_threads(connections, worker)
    total = Result(elapsed=time.perf_counter() - start)
    for part in results:
        total.merge(part)
    return total
