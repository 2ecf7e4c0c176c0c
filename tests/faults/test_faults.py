"""Faults under a steady stream of signed webhooks: nothing lost, nothing counted twice.

Each test runs a real deployment (cluster.py) while participants text and call
(traffic.py), breaks one part of it, or each in turn, lets it recover, then compares
three records of what was said, exactly:

- what the participants were told was accepted (the traffic's tally),
- the gateway's local events table (the outbox),
- the central store's events: the same event ids, each once.

Every request got a valid TwiML answer or a retryable failure that was retried (with the
same MessageSid / CallSid and action URL) until accepted; only the web process's restart
may cause retryable failures: Redis, the worker and the centre are not in the request path.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from redis import Redis
from rq import Queue
from rq.job import JobStatus

from gateway.sync.trigger import QUEUE_NAME, SYNC_JOB
from tests.faults.cluster import (
    AUTH_TOKEN,
    GATEWAY_ID,
    SYNC_BATCH_SIZE,
    Cluster,
    session_members,
    wait_for,
)
from tests.faults.traffic import Traffic

pytestmark = pytest.mark.faults

OUTAGE = 4.0  # seconds Redis or the centre stays down
BETWEEN = 2.0  # seconds of traffic before, between and after faults
SYNC_WAIT = 90.0  # the longest recovery: a back-off after the centre's outage is <= 16 s


@dataclass
class Window:
    """When a fault was in force, and what it was seen to do."""

    name: str
    start: float
    end: float
    seen: dict[str, Any] = field(default_factory=dict)


Fault = Callable[[Cluster, Traffic], Window]


def redis_outage(cluster: Cluster, traffic: Traffic) -> Window:
    before = len(cluster.gateway_events())
    start = time.monotonic()
    cluster.stop("redis")
    time.sleep(OUTAGE)
    committed = len(cluster.gateway_events()) - before
    cluster.start_redis()  # empty: no saved data, no pending flag, no queued job
    restarted = cluster.supervise()
    window = Window("redis", start, time.monotonic(),
                    {"answers committed while Redis was down": committed,
                     "restarted after it": restarted})
    assert committed > 0, "no answer was committed while Redis was down"
    assert "sync trigger: Redis unavailable" in cluster.procs["web"].log_text()
    return window


def worker_killed_mid_batch(cluster: Cluster, traffic: Traffic) -> Window:
    """SIGKILL the worker (main process, work-horse and scheduler) while its work-horse
    holds the sync lease and waits for the centre's acknowledgement of a batch the centre
    has already stored."""
    proxy = cluster.proxy
    assert proxy is not None
    worker = cluster.procs["worker"]
    start = time.monotonic()
    proxy.arm()
    try:
        wait_for(proxy.holding.is_set, 60, "the worker to send a batch through the proxy")
        time.sleep(0.5)  # answers keep arriving behind the held batch
        assert proxy.held is not None
        held = set(proxy.held.event_ids)
        lease = cluster.lease()
        assert lease is not None, "no sync pass holds the lease"
        assert lease.pid in session_members(worker.pid) and lease.pid != worker.pid, (
            f"the lease is held by pid {lease.pid}, not by a work-horse of the worker")
        assert 1 <= len(held) <= SYNC_BATCH_SIZE
        assert held <= cluster.central_ids(), "the centre did not store the held batch"
        assert held <= cluster.unsynced_ids(), "the gateway marked the held batch synced"
        backlog = cluster.backlog()
        killed = cluster.kill("worker")
        assert lease.pid in killed
    finally:
        proxy.release()
    cluster.start_worker()  # as the process manager would
    return Window("worker", start, time.monotonic(),
                  {"batch stored but not acknowledged": sorted(held),
                   "backlog when killed": backlog, "processes killed": len(killed)})


def central_outage(cluster: Cluster, traffic: Traffic) -> Window:
    start = time.monotonic()
    cluster.stop("central")
    time.sleep(OUTAGE)
    status = cluster.status()  # what an operator sees meanwhile
    cluster.start_central()  # same port, same database
    window = Window("central", start, time.monotonic(),
                    {"backlog during the outage": status["backlog"],
                     "failed attempts": status["failures_in_a_row"]})
    assert status["failures_in_a_row"] >= 1, status
    assert status["backlog"] > 0, status
    assert "cannot reach the central store" in (status["last_error"] or ""), status
    return window


def web_restart(cluster: Cluster, traffic: Traffic) -> Window:
    start = time.monotonic()
    cluster.stop("web")  # SIGTERM: gunicorn finishes the requests in progress
    time.sleep(1.0)
    cluster.start_web()
    return Window("web", start, time.monotonic())


def run(cluster: Cluster, faults: list[Fault]) -> dict[str, Any]:
    """Traffic throughout; the faults in turn; recovery; then the exact comparison."""
    began = time.monotonic()
    traffic = Traffic(cluster.gateway_url, AUTH_TOKEN)
    traffic.start()
    windows: list[Window] = []
    try:
        wait_for(lambda: cluster.synced() >= 20, 30, "the first answers to reach the centre")
        time.sleep(BETWEEN)
        for fault in faults:
            windows.append(fault(cluster, traffic))
            assert not traffic.failures, traffic.failures
            time.sleep(BETWEEN)
    finally:
        traffic.stop()
    assert not traffic.failures, traffic.failures
    synced_in = cluster.wait_synced(SYNC_WAIT)
    summary = check_exactly_once(cluster, traffic, windows)
    summary.update(sync_wait_s=round(synced_in, 1), run_s=round(time.monotonic() - began, 1))
    print(f"\n[faults] {', '.join(w.name for w in windows)}: {summary}")
    for window in windows:
        print(f"[faults]   {window.name} ({window.end - window.start:.1f} s): {window.seen}")
    return summary


def check_exactly_once(cluster: Cluster, traffic: Traffic,
                       windows: list[Window]) -> dict[str, Any]:
    status = cluster.status()
    assert (status["backlog"], status["quarantined"], status["failures_in_a_row"]) == (0, 0, 0)

    answers = traffic.accepted_answers()
    gateway = cluster.gateway_events()
    central = cluster.central_events()
    gateway_ids = [row.event_id for row in gateway]
    central_ids = [row.event_id for row in central]
    # One event per accepted answer, at the gateway and at the centre: the same ids.
    assert len(gateway_ids) == answers
    assert len(central_ids) == answers
    assert len(set(central_ids)) == len(central_ids)
    assert set(central_ids) == set(gateway_ids)
    assert {row.gateway for row in central} == {GATEWAY_ID}
    # ... holding what each participant answered, once: every conversation was finished.
    assert Counter((r.channel, r.question_id, r.value) for r in central) == traffic.expected
    assert cluster.gateway_tally() == traffic.expected
    assert Counter(row.channel for row in gateway) == Counter(
        {channel: 5 * done for channel, done in traffic.completed.items()})

    counts = traffic.counts()
    assert counts["bad"] == 0
    retried = {a.key for a in traffic.attempts if a.outcome == "retryable"}
    accepted = {a.key for a in traffic.attempts if a.outcome == "accepted"}
    assert retried <= accepted, "a refused request was never accepted"
    for window in windows:
        during = traffic.counts(window.start, window.end + 1.0)
        window.seen.update(accepted=during["accepted"], retryable=during["retryable"])
        assert during["accepted"] > 0, f"no request was answered during the {window.name} fault"
        if window.name == "web":
            assert during["retryable"] > 0, "no request met the web process's restart"
        else:  # not in the request path: every webhook answered at once
            assert during["retryable"] == 0, (window.name, during)
    for window in windows:
        if window.name == "worker":
            held = set(window.seen["batch stored but not acknowledged"])
            assert held <= set(central_ids)
            logs = cluster.procs["sweep"].log_text() + cluster.procs["worker"].log_text()
            assert "the centre already had" in logs  # sent again, counted once
    return {
        "requests": counts["accepted"], "retryable": counts["retryable"],
        "answers": answers, "gateway_events": len(gateway_ids),
        "central_events": len(central_ids), "sms_participants": traffic.completed["sms"],
        "calls": traffic.completed["voice"],
    }


def test_redis_stopped_and_restarted(cluster: Cluster) -> None:
    run(cluster, [redis_outage])


def test_worker_killed_mid_batch(cluster: Cluster) -> None:
    run(cluster, [worker_killed_mid_batch])


def test_central_store_stopped_and_restarted(cluster: Cluster) -> None:
    run(cluster, [central_outage])


def test_gateway_web_process_restarted(cluster: Cluster) -> None:
    run(cluster, [web_restart])


def test_every_fault_in_turn(cluster: Cluster) -> None:
    run(cluster, [redis_outage, worker_killed_mid_batch, central_outage, web_restart])


def test_a_retry_scheduled_after_a_redis_outage_runs_when_due(cluster: Cluster) -> None:
    """The worker's RQ scheduler exits when Redis goes away. A sync retry scheduled after
    the outage must still reach the queue when due, not at RQ's next maintenance pass
    (every 10 minutes by default)."""
    cluster.stop("redis")
    time.sleep(OUTAGE)
    cluster.start_redis()
    assert "worker" not in cluster.supervise(), "the worker itself did not live through it"
    redis = Redis.from_url(cluster.redis_url)
    try:
        job = Queue(QUEUE_NAME, connection=redis).enqueue_in(timedelta(seconds=1), SYNC_JOB)
        wait_for(lambda: job.get_status(refresh=True) == JobStatus.FINISHED, 30,
                 "the scheduled sync job to run")
    finally:
        redis.close()
