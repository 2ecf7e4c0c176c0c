"""A sync pass (gateway/sync/runner.py) against a real central server on loopback, on
SQLite and PostgreSQL: nothing lost, nothing counted twice, failures retried."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.sync import runner
from gateway.sync.client import (
    CentralClient,
    CentralUnreachable,
    HttpReply,
    HttpTransport,
    Transport,
)
from gateway.sync.runner import Syncer
from gateway.sync.schedule import BACKOFF_CAP
from tests.live import CIVICLINE, cli_env, settings_env
from tests.loopback_centre import Centre, Gateway, gateway_settings, make_gateway, take_part


def test_central_down_while_1000_answers_arrive(
    database_url: str, centre: Centre, remote_gateway: Gateway
) -> None:
    centre.stop()
    syncer = remote_gateway.services.syncer
    assert syncer is not None
    accepted: Counter = Counter()
    for n in range(200):  # 200 participants x 5 answers, 1,200 signed webhooks
        accepted += take_part(remote_gateway.client, n)
        if n % 50 == 0:
            report = syncer.run(force=True)  # the centre is down: fails, marks nothing
            assert report.outcome == "failed"
            assert "cannot reach the central store" in (report.error or "")
    assert sum(accepted.values()) == 1000
    assert remote_gateway.unsynced() == 1000
    assert centre.total() == 0

    # Between attempts the sync backs off instead of hammering the centre.
    waiting = syncer.run()
    assert waiting.outcome == "waiting"
    assert waiting.retry_in is not None and waiting.retry_in > 0
    state = remote_gateway.sync_state.state()
    assert int(state[runner.FAILURES]) == 4
    assert state[runner.NEXT_ATTEMPT]

    centre.start()  # back on the same address
    report = syncer.run(force=True)
    assert report.outcome == "synced"
    assert (report.sent, report.new, report.known, report.backlog) == (1000, 1000, 0, 0)
    assert remote_gateway.unsynced() == 0
    assert centre.total() == 1000
    assert centre.tally() == accepted
    assert remote_gateway.local_tally() == accepted
    state = remote_gateway.sync_state.state()
    assert state[runner.FAILURES] == "0"
    assert state[runner.NEXT_ATTEMPT] == ""
    assert state[runner.LAST_SUCCESS]
    assert "cannot reach" in state[runner.LAST_ERROR]  # kept for the operator

    again = syncer.run(force=True)
    assert (again.outcome, again.sent) == ("synced", 0)
    assert centre.total() == 1000
    [info] = centre.store.gateways()
    assert (info.name, info.backlog) == ("gw-a", 0)


class LosesReplies:
    """The centre commits, then the answer is lost (connection reset, worker killed)."""

    def __init__(self, inner: Transport, lose: int) -> None:
        self.inner = inner
        self.lose = lose

    def request(self, method: str, path: str, headers: Mapping[str, str],
                body: bytes | None) -> HttpReply:
        reply = self.inner.request(method, path, headers, body)
        if path.endswith("/events") and self.lose > 0:
            self.lose -= 1
            raise CentralUnreachable("connection reset after the centre committed")
        return reply


def test_lost_acknowledgement_changes_no_count(
    database_url: str, centre: Centre, remote_gateway: Gateway
) -> None:
    accepted: Counter = Counter()
    for n in range(30):
        accepted += take_part(remote_gateway.client, n)
    settings = remote_gateway.services.settings.with_overrides(sync_batch_size=40)
    syncer = Syncer(
        settings, remote_gateway.outbox,
        lambda: CentralClient(LosesReplies(HttpTransport(centre.url), lose=1),
                              settings.central_token),
        refresh_catalog=False,
    )
    first = syncer.run()
    assert first.outcome == "failed"
    assert centre.total() == 40  # the centre has the batch ...
    assert remote_gateway.unsynced() == 150  # ... the gateway does not know it
    second = syncer.run(force=True)
    assert (second.outcome, second.sent, second.new, second.known) == ("synced", 150, 110, 40)
    assert centre.total() == 150
    assert centre.tally() == accepted


class HoldAfterCommit:
    """WSGI middleware: once the centre has answered an events batch, signal and hold
    the answer back, so a test can kill the client between commit and acknowledgement."""

    def __init__(self, app: object) -> None:
        self.app = app
        self.committed = threading.Event()
        self.release = threading.Event()

    def __call__(self, environ: dict, start_response: object) -> object:
        result = self.app(environ, start_response)  # type: ignore[operator]
        if environ["PATH_INFO"].endswith("/events") and not self.committed.is_set():
            body = b"".join(result)
            self.committed.set()
            self.release.wait(30)
            return [body]
        return result


def test_sync_process_killed_mid_batch_changes_no_count(
    database_url: str, centre: Centre, remote_gateway: Gateway, tmp_path: Path
) -> None:
    accepted: Counter = Counter()
    for n in range(24):
        accepted += take_part(remote_gateway.client, n)
    hold: list[HoldAfterCommit] = []
    centre.stop()
    centre.wrap = lambda app: hold.append(HoldAfterCommit(app)) or hold[-1]
    centre.start()
    settings = remote_gateway.services.settings
    env = cli_env(settings_env(
        database_url=settings.database_url, central_url=centre.url,
        central_token=settings.central_token, gateway_id="gw-a", sync_batch_size=50,
        central_database_url=f"sqlite:///{tmp_path / 'unused-central.db'}",
        pseudonym_key=settings.pseudonym_key,
    ))
    process = subprocess.Popen([CIVICLINE, "sync", "--once"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert hold[0].committed.wait(30), "the sync process never delivered a batch"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
    finally:
        hold[0].release.set()
        if process.poll() is None:
            process.kill()
            process.wait(10)
        process.stdout.close()  # type: ignore[union-attr]
        process.stderr.close()  # type: ignore[union-attr]
    assert process.returncode == -signal.SIGKILL
    assert centre.total() == 50
    assert remote_gateway.unsynced() == 120
    lease = remote_gateway.sync_state.current_lease()
    assert lease is not None and lease.pid == process.pid  # left behind by the dead process

    report = remote_gateway.services.syncer.run()  # type: ignore[union-attr]
    assert (report.outcome, report.sent, report.new, report.known) == ("synced", 120, 70, 50)
    assert centre.total() == 120
    assert centre.tally() == accepted


def test_two_gateways_one_centre(
    centre: Centre, tmp_path: Path
) -> None:
    gateways = [
        make_gateway(gateway_settings(f"sqlite:///{tmp_path / f'{name}.db'}", centre, name,
                                      sync_batch_size=7))
        for name in ("gw-north", "gw-south")
    ]
    try:
        accepted: Counter = Counter()
        # The same phone numbers at both gateways: still two people's worth of events,
        # because each gateway's events have their own ids.
        for n in range(10):
            for gateway in gateways:
                accepted += take_part(gateway.client, n)
        results: list[runner.SyncReport] = []

        def sync(gateway: Gateway) -> None:
            results.append(gateway.services.syncer.run(force=True))  # type: ignore[union-attr]

        threads = [threading.Thread(target=sync, args=(g,)) for g in gateways]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert [r.outcome for r in results] == ["synced", "synced"]
        for gateway in gateways:  # a second round: nothing new, nothing doubled
            gateway.services.syncer.run(force=True)  # type: ignore[union-attr]
        assert centre.per_gateway() == {"gw-north": 50, "gw-south": 50}
        assert centre.total() == 100
        assert centre.tally() == accepted
        assert {g.name: g.backlog for g in centre.store.gateways()} == {
            "gw-north": 0, "gw-south": 0
        }
    finally:
        for gateway in gateways:
            gateway.close()


class TooLargeOver:
    """A proxy limit: bodies above `limit` bytes get 413, like nginx's 1 MB default."""

    def __init__(self, inner: Transport, limit: int) -> None:
        self.inner = inner
        self.limit = limit
        self.sizes: list[int] = []

    def request(self, method: str, path: str, headers: Mapping[str, str],
                body: bytes | None) -> HttpReply:
        self.sizes.append(len(body or b""))
        if body is not None and len(body) > self.limit:
            return HttpReply(413, {}, b'{"error": "too large", "detail": "proxy limit"}')
        return self.inner.request(method, path, headers, body)


def test_batches_shrink_when_the_path_refuses_large_bodies(
    database_url: str, centre: Centre, remote_gateway: Gateway
) -> None:
    for n in range(10):
        take_part(remote_gateway.client, n)
    settings = remote_gateway.services.settings.with_overrides(sync_batch_size=50)
    proxy = TooLargeOver(HttpTransport(centre.url), limit=4_000)
    syncer = Syncer(settings, remote_gateway.outbox,
                    lambda: CentralClient(proxy, settings.central_token, compress=False),
                    refresh_catalog=False)
    report = syncer.run()
    assert (report.outcome, report.sent, report.quarantined) == ("synced", 50, 0)
    assert centre.total() == 50
    assert max(proxy.sizes) > 4_000 and any(size <= 4_000 for size in proxy.sizes)


def test_wrong_token_is_a_failure_that_keeps_the_events(
    database_url: str, centre: Centre, tmp_path: Path
) -> None:
    settings = gateway_settings(database_url, centre, "gw-a")
    gateway = make_gateway(settings.with_overrides(central_token="stolen-or-stale"))
    try:
        take_part(gateway.client, 1)
        report = gateway.services.syncer.run()  # type: ignore[union-attr]
        assert report.outcome == "failed"
        assert "401" in (report.error or "") and "unknown gateway token" in report.error
        assert gateway.unsynced() == 5
        assert centre.total() == 0
    finally:
        gateway.close()


def test_failures_are_counted_without_limit_and_recovery_resets(
    database_url: str, centre: Centre, remote_gateway: Gateway
) -> None:
    take_part(remote_gateway.client, 1)
    centre.stop()
    syncer = remote_gateway.services.syncer
    assert syncer is not None
    sync_state = remote_gateway.sync_state
    sync_state.set_state({runner.FAILURES: "500"}, datetime.now(UTC))
    report = syncer.run(force=True)
    assert report.outcome == "failed"
    assert BACKOFF_CAP / 2 <= (report.retry_in or 0) <= BACKOFF_CAP
    assert sync_state.state()[runner.FAILURES] == "501"
    assert syncer.run().outcome == "waiting"
    centre.start()
    assert syncer.run(force=True).sent == 5
    assert sync_state.state()[runner.FAILURES] == "0"


@pytest.mark.parametrize("batch_size", [1, 3])
def test_oldest_first_in_batches_of_the_configured_size(
    database_url: str, centre: Centre, batch_size: int, tmp_path: Path
) -> None:
    gateway = make_gateway(gateway_settings(database_url, centre, "gw-a",
                                            sync_batch_size=batch_size))
    try:
        take_part(gateway.client, 5)
        sizes: list[int] = []
        order: list[str] = []

        class Recording:
            def __init__(self, inner: Transport) -> None:
                self.inner = inner

            def request(self, method: str, path: str, headers: Mapping[str, str],
                        body: bytes | None) -> HttpReply:
                if path.endswith("/events"):
                    import json

                    events = json.loads(body or b"{}")["events"]
                    if events:
                        sizes.append(len(events))
                        order.extend(e["question_id"] for e in events)
                return self.inner.request(method, path, headers, body)

        settings = gateway.services.settings
        syncer = Syncer(settings, gateway.outbox,
                        lambda: CentralClient(Recording(HttpTransport(centre.url)),
                                              settings.central_token, compress=False),
                        refresh_catalog=False)
        assert syncer.run().sent == 5
        assert max(sizes) == batch_size
        assert order == ["priority", "enough", "satisfaction", "comment", "age_band"]
    finally:
        gateway.close()
