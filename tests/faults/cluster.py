"""A whole CivicLine deployment on loopback, made of real processes a test can break.

    redis-server             our own, on a free port (never the shared one)
    civicline central serve  its own SQLite file; a token from `central add-gateway`
    civicline serve          the gateway's web process (gunicorn), its own SQLite file
    civicline worker         RQ; reaches the centre through a HoldingProxy
    civicline sync           the sweep, every SYNC_INTERVAL
    civicline outbox --send  the outreach sweep, every SYNC_INTERVAL

Every process starts in a session of its own, so stopping "the worker" reaches its
work-horse and scheduler too, and teardown leaves nothing behind: each session is
SIGKILLed whole and every process reaped (this process is made a child subreaper while
the cluster runs, because orphans are not reaped by PID 1 in every container).
Every wait is bounded and says what it was waiting for.
"""

from __future__ import annotations

import ctypes
import gzip
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import requests
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import Engine, create_engine, func, select

from gateway.central.store import schema as central_schema
from gateway.store import schema
from gateway.store.sync_state import LEASE_KEY, Lease

REPO = Path(__file__).resolve().parents[2]
CIVICLINE = str(Path(sys.executable).parent / "civicline")
FLOWS = REPO / "tests" / "fixtures" / "flows"
AUTH_TOKEN = "faults-auth-token-0123456789"
PSEUDONYM_KEY = "faults-pseudonym-key-0123456789"
GATEWAY_ID = "gw-faults"
SYNC_BATCH_SIZE = 5  # small batches: a sync pass is many round trips, so "mid-batch" is real
SYNC_INTERVAL = 1.0
START_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0

PR_SET_CHILD_SUBREAPER = 36


def wait_for(predicate: Callable[[], object], timeout: float, what: str,
             interval: float = 0.05) -> None:
    """Poll `predicate` until true; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name: state, ppid, pgrp, session..."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def session_members(sid: int, *, zombies: bool = False) -> list[int]:
    """Processes of session `sid`: live ones, and dead but unreaped ones if `zombies`."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _stat(int(entry))
        if fields is not None and fields[3] == str(sid) and (zombies or fields[0] != "Z"):
            members.append(int(entry))
    return members


def _children_of_mine() -> list[int]:
    me = str(os.getpid())
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields is not None and fields[1] == me:
                found.append(int(entry))
    return found


def _set_subreaper(on: bool) -> None:
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1 if on else 0, 0, 0, 0)


class Proc:
    """One command in a session of its own, its output in a log file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.log_path = log_path
        self.popen: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.sessions: list[int] = []  # every session this Proc ever started

    @property
    def pid(self) -> int:
        assert self.popen is not None, f"{self.name} was never started"
        return self.popen.pid

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def start(self) -> None:
        assert not self.alive, f"{self.name} is already running"
        self._close_log()
        self._log = open(self.log_path, "ab")  # closed by kill(), which every stop ends with
        self._log.write(f"\n==== start {' '.join(self.argv[1:])}\n".encode())
        self._log.flush()
        self.popen = subprocess.Popen(
            self.argv, env=self.env, cwd=REPO, stdin=subprocess.DEVNULL, stdout=self._log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.sessions.append(self.popen.pid)

    def terminate(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM the leader and wait for the whole session to end; SIGKILL after timeout."""
        if self.popen is None:
            return 0
        if self.popen.poll() is None:
            with suppress(ProcessLookupError):
                self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        self.kill()
        return self.popen.returncode

    def kill(self) -> list[int]:
        """SIGKILL every process of every session this Proc started; reap them all."""
        killed: list[int] = []
        for sid in self.sessions:
            for pid in session_members(sid):
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                killed.append(pid)
        if self.popen is not None:
            try:
                self.popen.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired as exc:  # pragma: no cover - SIGKILL ignored?
                raise AssertionError(f"{self.name} survived SIGKILL") from exc
        # Orphans re-parented to us: those just killed, and any that ended by themselves
        # (a worker's scheduler when Redis went away).
        leftovers = {pid for sid in self.sessions for pid in session_members(sid, zombies=True)}
        reap((set(killed) | leftovers) - {self.popen.pid if self.popen else -1})
        wait_for(lambda: not any(session_members(sid) for sid in self.sessions),
                 STOP_TIMEOUT, f"every process of {self.name} to end")
        self._close_log()
        return killed

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


def reap(pids: set[int], timeout: float = 5.0) -> None:
    """Collect exit statuses of orphans re-parented to this process (the subreaper)."""
    pending = {pid for pid in pids if pid in _children_of_mine()}
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for pid in list(pending):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                pending.discard(pid)
        if pending:
            time.sleep(0.02)


# --- a proxy that can hold back the centre's acknowledgement --------------------------------


@dataclass
class HeldBatch:
    event_ids: list[str]


class HoldingProxy:
    """A TCP relay to the centre. When armed, the centre's answer to the next
    `POST /api/v1/events` is held back: the centre has committed the batch, the sender
    has not heard so. A test kills the sender then, mid-batch, and releases the answer."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._armed = threading.Event()
        self.holding = threading.Event()
        self._release = threading.Event()
        self.held: HeldBatch | None = None
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False
        self._spawn(self._accept)

    def arm(self) -> None:
        self.held = None
        self.holding.clear()
        self._release.clear()
        self._armed.set()

    def release(self) -> None:
        self._armed.clear()
        self._release.set()

    def close(self) -> None:
        self._closed = True
        self.release()
        with self._lock:
            sockets = [self.listener, *self._sockets]
        for sock in sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with suppress(OSError):
                sock.close()
        for thread in self._threads:
            thread.join(5)

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), 2)
            except OSError:  # the centre is down: the sender sees its connection closed
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets += [client, upstream]
            request = bytearray()
            self._spawn(self._pump_requests, client, upstream, request)
            self._spawn(self._pump_answers, upstream, client, request)

    @staticmethod
    def _pump_requests(source: socket.socket, sink: socket.socket, request: bytearray) -> None:
        try:
            while chunk := source.recv(65536):
                request.extend(chunk)
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            with suppress(OSError):
                sink.shutdown(socket.SHUT_WR)

    def _pump_answers(self, source: socket.socket, sink: socket.socket,
                      request: bytearray) -> None:
        try:
            while chunk := source.recv(65536):
                if request:  # the first bytes of the answer to this request
                    sent = bytes(request)
                    request.clear()
                    if self._armed.is_set() and sent.startswith(b"POST /api/v1/events"):
                        ids = _event_ids(sent)
                        if ids:  # not a heartbeat: a batch the centre has just stored
                            self._armed.clear()
                            self.held = HeldBatch(ids)
                            self.holding.set()
                            self._release.wait(60)
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (sink, source):
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


def _event_ids(raw_request: bytes) -> list[str]:
    head, _, body = raw_request.partition(b"\r\n\r\n")
    if b"content-encoding: gzip" in head.lower():
        body = gzip.decompress(body)
    return [event["event_id"] for event in json.loads(body)["events"]]


# --- the cluster ---------------------------------------------------------------------------


@dataclass
class Cluster:
    workdir: Path
    redis_port: int = field(default_factory=free_port)
    central_port: int = field(default_factory=free_port)
    gateway_port: int = field(default_factory=free_port)
    procs: dict[str, Proc] = field(default_factory=dict)
    proxy: HoldingProxy | None = None
    central_token: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)  # the gateway's processes' too
    _gateway_engine: Engine | None = None
    _central_engine: Engine | None = None

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    @property
    def central_url(self) -> str:
        return f"http://127.0.0.1:{self.central_port}"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    @property
    def gateway_db(self) -> Path:
        return self.workdir / "gateway.db"

    @property
    def central_db(self) -> Path:
        return self.workdir / "central.db"

    # --- environment ---------------------------------------------------------------------

    def base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("CENTRAL_", "DATABASE_URL", "REDIS_URL", "SYNC_",
                                    "TWILIO_", "PSEUDONYM_", "PUBLIC_BASE_URL", "CIVICLINE_",
                                    "SIGNATURE_", "GATEWAY_ID", "FLOWS_DIR", "SECRET_KEY"))}
        env.update(
            LOG_LEVEL="INFO",
            PYTHONUNBUFFERED="1",
            SECRET_KEY="faults-session-key-0123456789",
            CENTRAL_DATABASE_URL=f"sqlite:///{self.central_db}",
            # Never the default var/ of the checkout (the central commands read it too).
            DATABASE_URL=f"sqlite:///{self.central_db.with_name('central-side-gateway.db')}",
        )
        return env

    def gateway_env(self, central_url: str) -> dict[str, str]:
        env = self.base_env()
        env.update(
            DATABASE_URL=f"sqlite:///{self.gateway_db}",
            SQLITE_SYNCHRONOUS="NORMAL",  # these tests kill processes, not the power
            REDIS_URL=self.redis_url,
            CENTRAL_URL=central_url,
            CENTRAL_TOKEN=self.central_token,
            FLOWS_DIR=str(FLOWS),
            TWILIO_AUTH_TOKEN=AUTH_TOKEN,
            PSEUDONYM_KEY=PSEUDONYM_KEY,
            GATEWAY_ID=GATEWAY_ID,
            SYNC_BATCH_SIZE=str(SYNC_BATCH_SIZE),
            SYNC_INTERVAL=str(SYNC_INTERVAL),
        )
        env.update(self.extra_env)
        return env

    def _proc(self, name: str, argv: list[str], env: dict[str, str]) -> Proc:
        proc = Proc(name, argv, env, self.workdir / f"{name}.log")
        self.procs[name] = proc
        return proc

    # --- start-up --------------------------------------------------------------------------

    def start(self) -> None:
        redis_server = shutil.which("redis-server")
        assert redis_server, "redis-server is not installed"
        self._proc("redis", [redis_server, "--port", str(self.redis_port), "--bind",
                             "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--daemonize", "no"], self.base_env())
        self.start_redis()

        env = self.base_env()
        self.central_token = self._cli(["central", "add-gateway", GATEWAY_ID], env).split()[0]
        self._cli(["central", "publish", str(FLOWS / "water.yaml"), str(FLOWS / "closed.yaml")],
                  env)
        self._proc("central", [CIVICLINE, "central", "serve", "--port", str(self.central_port),
                               "--workers", "1"], env)
        self.start_central()
        self.proxy = HoldingProxy(self.central_port)

        self._proc("web", [CIVICLINE, "serve", "--port", str(self.gateway_port),
                           "--workers", "2"], self.gateway_env(self.central_url))
        # The worker reaches the centre through the proxy; the sweep goes direct.
        self._proc("worker", [CIVICLINE, "worker"], self.gateway_env(self.proxy.url))
        self._proc("sweep", [CIVICLINE, "sync"], self.gateway_env(self.central_url))
        # The Procfile's outreach sweep: finds outreach a lost RQ job left unsent.
        self._proc("outreach", [CIVICLINE, "outbox", "--send", "--every", str(SYNC_INTERVAL)],
                   self.gateway_env(self.central_url))
        self.start_web()
        self.start_worker()
        self.start_sweep()
        self.start_outreach_sweep()

    def _cli(self, args: list[str], env: dict[str, str]) -> str:
        done = subprocess.run([CIVICLINE, *args], env=env, cwd=REPO, capture_output=True,
                              text=True, timeout=60, check=False)
        assert done.returncode == 0, f"civicline {' '.join(args)}: {done.stderr}"
        return done.stdout

    def start_redis(self) -> None:
        self.procs["redis"].start()
        wait_for(self._redis_ready, START_TIMEOUT, "redis-server to answer PING")

    def start_central(self) -> None:
        self.procs["central"].start()
        wait_for(lambda: self._http_ok(self.central_url), START_TIMEOUT,
                 "the central store's /healthz")

    def start_web(self) -> None:
        self.procs["web"].start()
        wait_for(lambda: self._http_ok(self.gateway_url), START_TIMEOUT,
                 "the gateway's /healthz")

    def start_worker(self) -> None:
        proc = self.procs["worker"]
        proc.start()
        wait_for(lambda: self._worker_listening(proc), START_TIMEOUT,
                 "the RQ worker to register in Redis")

    def start_sweep(self) -> None:
        proc = self.procs["sweep"]
        proc.start()
        wait_for(lambda: "syncing every" in proc.log_text() or not proc.alive,
                 START_TIMEOUT, "the sweep to start")
        assert proc.alive, proc.log_tail()

    def start_outreach_sweep(self) -> None:
        proc = self.procs["outreach"]
        proc.start()
        wait_for(lambda: "sending due outreach every" in proc.log_text() or not proc.alive,
                 START_TIMEOUT, "the outreach sweep to start")
        assert proc.alive, proc.log_tail()

    def _redis_ready(self) -> bool:
        assert self.procs["redis"].alive, self.procs["redis"].log_tail()
        client = Redis.from_url(self.redis_url, socket_connect_timeout=0.5, socket_timeout=1)
        try:
            return bool(client.ping())
        except RedisError:
            return False
        finally:
            client.close()

    def _worker_listening(self, proc: Proc) -> bool:
        from rq import Worker

        assert proc.alive, proc.log_tail()
        client = Redis.from_url(self.redis_url, socket_connect_timeout=0.5, socket_timeout=1)
        try:
            return any(w.pid == proc.pid for w in Worker.all(connection=client))
        except RedisError:
            return False
        finally:
            client.close()

    @staticmethod
    def _http_ok(url: str) -> bool:
        try:
            return requests.get(f"{url}/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    # --- faults ---------------------------------------------------------------------------

    def stop(self, name: str) -> None:
        """A clean stop (SIGTERM), waited for."""
        self.procs[name].terminate()

    def kill(self, name: str) -> list[int]:
        """SIGKILL every process of `name` (a worker: its horse and scheduler too)."""
        return self.procs[name].kill()

    def supervise(self) -> list[str]:
        """Start again what exited by itself, as the Procfile's process manager would."""
        restarted = []
        starters = {"worker": self.start_worker, "sweep": self.start_sweep,
                    "outreach": self.start_outreach_sweep}
        for name, start in starters.items():
            if not self.procs[name].alive:
                self.procs[name].kill()  # whatever its session left behind
                start()
                restarted.append(name)
        return restarted

    # --- reading the stores ------------------------------------------------------------------

    @property
    def gateway_engine(self) -> Engine:
        if self._gateway_engine is None:
            self._gateway_engine = create_engine(f"sqlite:///{self.gateway_db}")
        return self._gateway_engine

    @property
    def central_engine(self) -> Engine:
        if self._central_engine is None:
            self._central_engine = create_engine(f"sqlite:///{self.central_db}")
        return self._central_engine

    def backlog(self) -> int:
        e = schema.events.c
        with self.gateway_engine.connect() as conn:
            return conn.execute(
                select(func.count()).select_from(schema.events).where(e.synced_at.is_(None))
            ).scalar_one()

    def synced(self) -> int:
        e = schema.events.c
        with self.gateway_engine.connect() as conn:
            return conn.execute(
                select(func.count()).select_from(schema.events).where(e.synced_at.is_not(None))
            ).scalar_one()

    def gateway_events(self) -> list[Any]:
        e = schema.events.c
        with self.gateway_engine.connect() as conn:
            return list(conn.execute(
                select(e.event_id, e.channel, e.question_id, e.value, e.synced_at, e.sync_error)
            ).all())

    def unsynced_ids(self) -> set[str]:
        return {row.event_id for row in self.gateway_events() if row.synced_at is None}

    def central_events(self) -> list[Any]:
        e = central_schema.events.c
        with self.central_engine.connect() as conn:
            return list(conn.execute(
                select(e.event_id, e.gateway, e.channel, e.question_id, e.value)
            ).all())

    def central_ids(self) -> set[str]:
        return {row.event_id for row in self.central_events()}

    def lease(self) -> Lease | None:
        s = schema.gateway_state.c
        with self.gateway_engine.connect() as conn:
            value = conn.execute(select(s.value).where(s.key == LEASE_KEY)).scalar()
        return Lease.from_text(value or "")

    def gateway_tally(self) -> Counter[tuple[str, str, str | None]]:
        return Counter((r.channel, r.question_id, r.value) for r in self.gateway_events())

    def status(self) -> dict[str, Any]:
        """`civicline status --json`, as an operator would read it."""
        return json.loads(self._cli(["status", "--json"], self.gateway_env(self.central_url)))

    def wait_synced(self, timeout: float) -> float:
        """Wait until the gateway's outbox is empty; returns how long it took."""
        started = time.monotonic()
        wait_for(lambda: self.backlog() == 0, timeout, "the gateway's outbox backlog to be 0 "
                 f"(backlog now {self.backlog()}; sweep log:\n{self.procs['sweep'].log_tail()})",
                 interval=0.2)
        return time.monotonic() - started

    # --- teardown ------------------------------------------------------------------------

    def close(self) -> None:
        errors = []
        for proc in self.procs.values():
            try:
                proc.kill()
            except AssertionError as exc:  # keep killing the others
                errors.append(str(exc))
        if self.proxy is not None:
            self.proxy.close()
        for engine in (self._gateway_engine, self._central_engine):
            if engine is not None:
                engine.dispose()
        assert not errors, errors


@contextmanager
def running_cluster(workdir: Path,
                    configure: Callable[[Cluster], None] | None = None) -> Iterator[Cluster]:
    """A started cluster; everything it started is gone when the block exits. `configure`
    sees it before it starts (its ports are known then), e.g. to set `extra_env`."""
    _set_subreaper(True)
    cluster = Cluster(workdir)
    if configure is not None:
        configure(cluster)
    try:
        cluster.start()
        yield cluster
    finally:
        try:
            cluster.close()
        finally:
            _set_subreaper(False)
