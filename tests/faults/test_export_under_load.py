"""A million-row responses export, asked for on the dashboard of a running gateway
(`civicline serve`, the centre embedded), while participants keep texting: the export
completes whatever it takes (no worker timeout cuts it) and every webhook is answered
promptly all along (it runs in a process of its own, reading without waiting for the
webhooks' writes nor making them wait)."""

from __future__ import annotations

import re
import signal
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from twilio.request_validator import RequestValidator

from tests.conftest import FIXTURE_FLOWS
from tests.live import CIVICLINE, cli_env, free_port, wait_until
from tests.twilio_signing import new_sid

pytestmark = pytest.mark.faults

ROWS = 1_000_000
TOKEN = "export-load-auth-token-0123456789"
PASSWORD = "correct horse battery"
WEBHOOKS_PER_SECOND = 50
P99_LIMIT_MS = 50.0  # the webhook target of bench/README.md, here under the export


def fill_central(database: Path) -> None:
    """ROWS events of the fixture consultation straight into the centre's events table
    (the responses export reads nothing else)."""
    started = "2026-06-01T09:00:00+00:00"
    with sqlite3.connect(database) as conn:
        conn.executemany(
            "INSERT INTO central_events (event_id, consultation_id, question_id, pseudonym,"
            " channel, status, value, raw, language, answered_at, region, gateway,"
            " received_at)"
            " VALUES (?, 'water-test', 'priority', ?, 'sms', 'answered', 'water', '1', 'en',"
            " ?, 'KE', 'local', ?)",
            ((str(uuid.UUID(int=n)), f"{n:064x}", started, started) for n in range(ROWS)),
        )
    conn.close()


@dataclass
class Gateway:
    url: str
    process: subprocess.Popen[bytes]
    env: dict[str, str]

    def sms(self, session: requests.Session, phone: str, body: str) -> float:
        """Post one signed SMS webhook; its latency in ms (asserting a 200)."""
        url = f"{self.url}/twilio/sms"
        form = {"MessageSid": new_sid(), "AccountSid": "AC" + "0" * 32, "From": phone,
                "To": "+254700000001", "Body": body, "NumSegments": "1", "NumMedia": "0"}
        signature = RequestValidator(TOKEN).compute_signature(url, form)
        started = time.perf_counter()
        answer = session.post(url, data=form, headers={"X-Twilio-Signature": signature},
                              timeout=30)
        elapsed = (time.perf_counter() - started) * 1000
        assert answer.status_code == 200, answer.text
        return elapsed


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    env = cli_env({
        "DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.db'}",
        "CENTRAL_DATABASE_URL": f"sqlite:///{tmp_path / 'central.db'}",
        "DATA_DIR": str(tmp_path),
        "FLOWS_DIR": str(FIXTURE_FLOWS),
        "TWILIO_AUTH_TOKEN": TOKEN,
        "PSEUDONYM_KEY": "export-load-pseudonym-key-0123456789",
        "SECRET_KEY": "export-load-secret-key-0123456789",
    })
    port = free_port()
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([CIVICLINE, "serve", "--port", str(port)], env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
    gateway = Gateway(f"http://127.0.0.1:{port}", process, env)
    try:
        def up() -> bool:
            assert process.poll() is None, log.read_text()
            try:
                return requests.get(f"{gateway.url}/healthz", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_until(up, timeout=60, interval=0.2)
        fill_central(tmp_path / "central.db")
        subprocess.run([CIVICLINE, "officials", "add", "ada", "--password-stdin"],
                       input=f"{PASSWORD}\n".encode(), env=env, check=True,
                       capture_output=True)
        yield gateway
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


class Texting:
    """Participants texting at WEBHOOKS_PER_SECOND, each webhook's latency kept."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.session = requests.Session()
        self.sent = 0

    def for_a_while(self, seconds: float) -> list[float]:
        latencies = []
        began = time.monotonic()
        for n in range(int(seconds * WEBHOOKS_PER_SECOND)):
            time.sleep(max(0.0, began + n / WEBHOOKS_PER_SECOND - time.monotonic()))
            phone = f"+2547{self.sent // 4:08d}"
            body = ("WATER", "1", "3", "yes")[self.sent % 4]
            latencies.append(self.gateway.sms(self.session, phone, body))
            self.sent += 1
        return latencies


def p99(latencies: list[float]) -> float:
    return sorted(latencies)[int(len(latencies) * 0.99)]


def test_a_million_row_export_completes_while_webhooks_keep_their_pace(
    gateway: Gateway,
) -> None:
    texting = Texting(gateway)
    before = texting.for_a_while(10)

    official = requests.Session()
    sign_in = f"{gateway.url}/officials/sign-in"
    official.post(sign_in, data={"username": "ada", "password": PASSWORD,
                                 "csrf_token": csrf(official.get(sign_in).text)}, timeout=30)
    consultation = f"{gateway.url}/officials/consultations/water-test"
    started = official.post(f"{consultation}/exports", timeout=30, data={
        "export": "responses.csv", "csrf_token": csrf(official.get(consultation).text)})
    assert started.url.startswith(f"{gateway.url}/officials/exports/"), started.text
    job_page = started.url

    during: list[float] = []
    began = time.monotonic()
    while "Being prepared" in official.get(job_page, timeout=30).text:
        assert time.monotonic() - began < 600, "the export did not finish in 10 minutes"
        during += texting.for_a_while(1)
    took = time.monotonic() - began

    assert "Ready" in official.get(job_page, timeout=30).text
    download = official.get(f"{job_page}/download", timeout=120)
    assert download.status_code == 200
    # The header, then every response: the million, and any the webhooks' answers had
    # already synced to the centre when the export began reading.
    assert download.content.count(b"\n") > ROWS
    print(f"export of {ROWS} rows took {took:.1f} s; webhooks p99 {p99(before):.1f} ms "
          f"before it ({len(before)}), {p99(during):.1f} ms during it ({len(during)})")
    assert len(during) >= WEBHOOKS_PER_SECOND  # the export ran for seconds, not less
    # Kept: under the target, or (on a machine busy with other work) no worse than half
    # again what the same webhooks took just before.
    assert p99(during) < max(P99_LIMIT_MS, 1.5 * p99(before))
