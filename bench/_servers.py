"""gunicorn as a subprocess for the benchmark: same settings for every app, access log off."""

from __future__ import annotations

import os
import runpy
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

REPO = Path(__file__).resolve().parent.parent
GUNICORN_CONF = REPO / "config" / "gunicorn.conf.py"
# Settings taken from the project's gunicorn config as they are.
KEPT_SETTINGS = ("timeout", "graceful_timeout", "keepalive")
BENCH_TOKEN = "bench-auth-token-0123456789abcdef"  # noqa: S105 - a local benchmark secret
BENCH_PSEUDONYM_KEY = "bench-pseudonym-key-0123456789abcdef"  # noqa: S105


def gateway_env(workdir: Path, name: str, flows_dir: Path, redis_url: str,
                synchronous: str, *, database_url: str | None = None) -> dict[str, str]:
    """The gateway's settings for a benchmark run (see gateway/settings.py).

    Both SQLite files live in `workdir`: the gateway's store (unless `database_url` names
    another) and the central store it embeds when CENTRAL_URL is unset (its default,
    var/central.db, is the developer's own). `synchronous` applies to both SQLite files.
    """
    return {
        "DATABASE_URL": database_url or f"sqlite:///{workdir / (name + '.db')}",
        "CENTRAL_DATABASE_URL": f"sqlite:///{workdir / (name + '-central.db')}",
        "CENTRAL_URL": "",  # "" -> the central store runs embedded, on the file above
        "REDIS_URL": redis_url,
        "TWILIO_AUTH_TOKEN": BENCH_TOKEN,
        "PSEUDONYM_KEY": BENCH_PSEUDONYM_KEY,
        "SECRET_KEY": "bench-secret-key-0123456789abcdef",
        "FLOWS_DIR": str(flows_dir),
        "SQLITE_SYNCHRONOUS": synchronous,
        "GATEWAY_ID": "bench",
    }


@dataclass(frozen=True)
class WorkerSettings:
    workers: int = 2
    worker_class: str = "sync"
    threads: int = 1

    def describe(self) -> str:
        threads = f" --threads {self.threads}" if self.worker_class == "gthread" else ""
        return f"gunicorn -w {self.workers} -k {self.worker_class}{threads}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(path: Path, port: int, settings: WorkerSettings, error_log: Path) -> None:
    """A gunicorn config: the project's timeouts and keep-alive, no access log, no recycling.

    max_requests is off so that a worker restart (and the app start-up it costs) does not
    land in the middle of a measurement; the access log is off for both apps.
    """
    project = runpy.run_path(str(GUNICORN_CONF))
    values: dict[str, object] = {name: project[name] for name in KEPT_SETTINGS if name in project}
    values.update(
        bind=f"127.0.0.1:{port}",
        workers=settings.workers,
        worker_class=settings.worker_class,
        threads=settings.threads,
        max_requests=0,
        accesslog=None,
        errorlog=str(error_log),
        loglevel="warning",
        backlog=2048,
    )
    lines = [f"{k} = {v!r}\n" for k, v in values.items()]
    path.write_text("".join(lines), encoding="utf-8")


class Server:
    """One gunicorn master running `app` ("module:factory()"), stopped on exit."""

    def __init__(self, name: str, app: str, workdir: Path, settings: WorkerSettings,
                 env: dict[str, str] | None = None) -> None:
        self.name = name
        self.app = app
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.log = workdir / f"{name}.log"
        self.config = workdir / f"{name}.gunicorn.py"
        write_config(self.config, self.port, settings, self.log)
        self.env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, path: str) -> str:
        return f"http://{self.host}{path}"

    def __enter__(self) -> Server:
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv, our own interpreter
            [sys.executable, "-m", "gunicorn", "-c", str(self.config), self.app],
            cwd=REPO, env=self.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            self._wait_ready(timeout=30.0)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        request = f"GET /healthz HTTP/1.1\r\nHost: {self.host}\r\nConnection: close\r\n\r\n"
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.name}: gunicorn exited with {self.process.returncode}"
                                   f"\n{self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2.0) as sock:
                    sock.sendall(request.encode("ascii"))
                    head = sock.recv(64)
                if head.startswith(b"HTTP/1.1 200"):
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name}: not ready after {timeout:.0f} s\n{self.log_tail()}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)  # graceful: the master stops its workers
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the master and its live workers."""
        if self.process is None:
            return 0.0
        pids = [self.process.pid]
        try:
            children = Path(f"/proc/{pids[0]}/task/{pids[0]}/children").read_text()
            pids += [int(pid) for pid in children.split()]
        except OSError:
            pass
        return sum(_process_cpu(pid) for pid in pids)

    def log_tail(self, lines: int = 20) -> str:
        return log_tail(self.log, lines)


def log_tail(path: Path, lines: int = 20) -> str:
    """The last `lines` lines of a process's log file, for an error message."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


_TICKS = os.sysconf("SC_CLK_TCK")


def _process_cpu(pid: int) -> float:
    """utime + stime of one process (all its threads), in seconds; 0 if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS
