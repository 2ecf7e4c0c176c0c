"""A failed sync or disk write under a real web process: an error answer, never a 200,
and exactly one stored event once Twilio retries the same MessageSid.

The fault is injected into the web worker's own system calls on the store's
write-ahead log with strace (`-e inject=...`), so SQLite meets it where a failing disk
would put it.
"""

from __future__ import annotations

import shutil
import signal
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from twilio.request_validator import RequestValidator

from tests.conftest import FIXTURE_FLOWS, _service_missing
from tests.live import CIVICLINE, cli_env, free_port, wait_until
from tests.twilio_signing import new_sid

pytestmark = pytest.mark.faults

TOKEN = "disk-fault-auth-token-0123456789"
PHONE = "+254712345678"


@dataclass
class Served:
    url: str
    database: Path
    process: subprocess.Popen[bytes]
    log: Path

    def worker_pid(self) -> int:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        pids = [int(pid) for pid in children.read_text().split()]
        assert len(pids) == 1, pids
        return pids[0]

    def sms(self, body: str, sid: str) -> requests.Response:
        url = f"{self.url}/twilio/sms"
        form = {"MessageSid": sid, "AccountSid": "AC" + "0" * 32, "From": PHONE,
                "To": "+254700000001", "Body": body, "NumSegments": "1", "NumMedia": "0"}
        signature = RequestValidator(TOKEN).compute_signature(url, form)
        return requests.post(url, data=form, headers={"X-Twilio-Signature": signature},
                             timeout=30)

    def events(self) -> int:
        with sqlite3.connect(self.database) as conn:
            return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    if shutil.which("strace") is None:
        _service_missing("strace (apt-get install -y strace)")
    port = free_port()
    database = tmp_path / "gateway.db"
    env = cli_env({
        "DATABASE_URL": f"sqlite:///{database}",
        "CENTRAL_DATABASE_URL": f"sqlite:///{tmp_path / 'central.db'}",
        "FLOWS_DIR": str(FIXTURE_FLOWS),
        "TWILIO_AUTH_TOKEN": TOKEN,
        "PSEUDONYM_KEY": "disk-fault-pseudonym-key-0123456789",
        "SECRET_KEY": "disk-fault-secret-key-0123456789",
    })
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([CIVICLINE, "serve", "--port", str(port), "--workers", "1"],
                                   env=env, stdout=out, stderr=subprocess.STDOUT)
    served = Served(f"http://127.0.0.1:{port}", database, process, log)
    try:
        def up() -> bool:
            assert process.poll() is None, log.read_text()
            try:
                return requests.get(f"{served.url}/healthz", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_until(up, timeout=60, interval=0.2)
        yield served
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


@contextmanager
def failing(served: Served, syscall: str, error: str) -> Iterator[None]:
    """The web worker's next `syscall` on the store's log fails with `error`."""
    wal = f"{served.database}-wal"
    with subprocess.Popen(
        ["strace", "-p", str(served.worker_pid()), "-f", "-e", f"trace={syscall}",
         "-e", f"inject={syscall}:error={error}:when=1", "-P", wal],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    ) as tracer:
        try:
            assert tracer.stderr is not None
            attached = tracer.stderr.readline()  # "strace: Process N attached"
            assert "attached" in attached, attached
            yield
        finally:
            tracer.send_signal(signal.SIGINT)  # detaches; the worker runs on untouched
            tracer.wait(timeout=30)


@pytest.mark.parametrize(("syscall", "error"), [("fdatasync", "EIO"), ("pwrite64", "ENOSPC")],
                         ids=["sync fails", "disk full"])
def test_a_failed_write_is_an_error_answer_and_the_retry_counts_once(
    served: Served, syscall: str, error: str
) -> None:
    assert served.sms("WATER", new_sid()).status_code == 200  # the log exists from here
    assert served.events() == 0
    answer = new_sid()
    with failing(served, syscall, error):
        refused = served.sms("1", answer)
    assert refused.status_code == 500, refused.text
    assert "<Message>" not in refused.text
    assert served.events() == 0

    retried = served.sms("1", answer)  # Twilio's retry: the same MessageSid
    assert retried.status_code == 200, retried.text
    assert "<Message>" in retried.text
    assert served.sms("1", answer).text == retried.text
    assert served.events() == 1
    assert "disk I/O error" in served.log.read_text() or "disk is full" in served.log.read_text()
