"""The processes of the outreach bench besides gunicorn: the Twilio stand-in, the RQ worker
and the sync sweep, each in a session of its own (stopping one reaches its children: the
worker's work-horse and scheduler), their output in log files; the CLI commands; and the
worker's resident memory read from /proc."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from bench._servers import REPO, log_tail

CIVICLINE = str(Path(sys.executable).parent / "civicline")
STOP_SECONDS = 15.0


class Proc:
    """One command in a session of its own, stopped (SIGTERM, then SIGKILL) on exit."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], workdir: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = {**env, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
        self.log = workdir / f"{name}.log"
        self.popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.popen is not None, f"{self.name} was never started"
        return self.popen.pid

    def __enter__(self) -> Proc:
        with open(self.log, "ab") as out:
            self.popen = subprocess.Popen(  # noqa: S603 - fixed argv, our own interpreter
                self.argv, env=self.env, cwd=REPO, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
            )
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self) -> None:
        popen, self.popen = self.popen, None
        if popen is None:
            return
        session = popen.pid
        with suppress(ProcessLookupError):
            os.killpg(session, signal.SIGTERM)
        try:
            popen.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            pass
        with suppress(ProcessLookupError):
            os.killpg(session, signal.SIGKILL)  # whatever of the session is left
        with suppress(subprocess.TimeoutExpired):
            popen.wait(5)

    def log_tail(self, lines: int = 20) -> str:
        return log_tail(self.log, lines)

    def wait_log(self, marker: str, timeout: float) -> None:
        """Until `marker` shows in the log; fails with the log's tail if it exits first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited:\n{self.log_tail()}")
            with suppress(OSError):
                if marker in self.log.read_text(encoding="utf-8", errors="replace"):
                    return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name}: no {marker!r} after {timeout:.0f} s\n"
                           f"{self.log_tail()}")


def standin(workdir: Path, port: int, token: str, hold: float, seed: int) -> Proc:
    events = workdir / "twilio-events.txt"
    return Proc("twilio-standin", [sys.executable, "-m", "bench._twilio_standin",
                                   "--port", str(port), "--token", token, "--events",
                                   str(events), "--hold", str(hold), "--seed", str(seed)],
                dict(os.environ), workdir)


def wait_listening(port: int, proc: Proc, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited:\n{proc.log_tail()}")
        with suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{proc.name}: port {port} not open after {timeout:.0f} s")


def cli(args: list[str], env: dict[str, str], timeout: float = 600.0) -> str:
    """`civicline ARGS`; its standard output, or an error with its standard error."""
    done = subprocess.run(  # noqa: S603 - fixed argv
        [CIVICLINE, *args], env={**env, "PYTHONPATH": str(REPO)}, cwd=REPO,
        capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"civicline {' '.join(args[:3])} failed:\n{done.stderr[-2000:]}")
    return done.stdout


# --- resident memory ----------------------------------------------------------------------


def rss_kib(pid: int) -> int:
    """VmRSS of one process in KiB; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return 0
    return 0


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int, *, reaped: bool = False) -> float:
    """User + system CPU of one process; with `reaped`, of its waited-for children too."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2:].split()
    ticks = int(fields[11]) + int(fields[12])
    if reaped:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / _TICKS


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


@dataclass(frozen=True)
class RssSample:
    at: float  # seconds since the sampler started
    worker_kib: int  # the RQ worker's main process
    children_kib: int  # its children: the work-horse (and the scheduler, when forked)
    horse_kib: int  # the largest child, the work-horse while a job runs
    cpu: float  # CPU seconds of the worker, its live children and those it reaped
    wall: float  # time.time() when taken, the stand-in's clock
    kids: int = 0  # children alive: the scheduler, and the work-horse while a job runs

    @property
    def total_kib(self) -> int:
        return self.worker_kib + self.children_kib


@dataclass
class RssSampler:
    """VmRSS of the worker and its children every `interval` seconds, on a thread."""

    pid: int
    interval: float = 3.0
    samples: list[RssSample] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> RssSampler:
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.interval + 2)

    def take(self) -> RssSample:
        pids = children(self.pid)
        kids = [rss_kib(pid) for pid in pids]
        cpu = cpu_seconds(self.pid, reaped=True) + sum(cpu_seconds(pid) for pid in pids)
        return RssSample(time.monotonic() - self._started, rss_kib(self.pid), sum(kids),
                         max(kids, default=0), cpu, time.time(), len(pids))

    def _loop(self) -> None:
        while True:
            self.samples.append(self.take())
            if self._stop.wait(self.interval):
                return
