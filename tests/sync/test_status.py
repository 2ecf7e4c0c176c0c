"""What the sync says to an operator: a pass in one line, and `civicline status`."""

from __future__ import annotations

from gateway.sync.runner import SyncReport
from gateway.sync.status import describe, render


def test_a_pass_in_one_line() -> None:
    assert describe(SyncReport(sent=5, new=4, known=1, backlog=2)) == (
        "synced 5 events (4 new, 1 already known); 2 waiting")
    assert describe(SyncReport(sent=5, new=5, quarantined=1, consultations="updated")) == (
        "synced 5 events (5 new, 0 already known); 0 waiting; 1 quarantined (see "
        "`civicline status`); consultations updated")
    assert describe(SyncReport(outcome="failed", error="no route", backlog=7,
                               retry_in=4.2)) == (
        "sync failed: no route; 7 events wait, next attempt in 4 s")
    assert describe(SyncReport(outcome="waiting", error="no route", retry_in=61)) == (
        "backing off after failures (no route); next attempt in 61 s")
    assert describe(SyncReport(outcome="busy")) == (
        "another sync pass is running; nothing to do")


def test_status_for_a_person_says_what_fails_and_what_waits() -> None:
    info = {
        "gateway": "gw-a", "central": "https://centre.example.org", "backlog": 12,
        "sync_running": True, "sync_running_in": "box pid 42",
        "last_success_at": None, "last_result": None,
        "last_error": "cannot reach the central store", "last_error_at": "2026-12-01T09:00",
        "failures_in_a_row": 3, "next_attempt_at": "2026-12-01T09:01",
        "quarantined": 1,
        "quarantined_events": [{"event_id": "e-1", "consultation_id": "water-test",
                                "question_id": "priority", "error": "refused: why"}],
        "consultations": {"source": "central set \"v2\"", "items": [
            {"id": "water-test", "version": 2}], "error": "kept the previous set"},
    }
    assert render(info).splitlines() == [
        "gateway gw-a -> central https://centre.example.org",
        "backlog: 12 events waiting to sync",
        "sync running now in box pid 42",
        "last successful sync: never",
        "last error: 2026-12-01T09:00: cannot reach the central store",
        "FAILING: 3 attempts in a row; events are kept and retried without end, next "
        "attempt at 2026-12-01T09:01",
        "quarantined: 1 event refused by the centre",
        "  e-1 water-test/priority: refused: why",
        "  (fix the cause, then `civicline sync --retry-quarantined`)",
        "consultations: central set \"v2\": water-test v2",
        "  consultations error: kept the previous set",
    ]


def test_one_event_is_one_event_not_one_events() -> None:
    assert describe(SyncReport(sent=1, new=1, backlog=1)) == (
        "synced 1 event (1 new, 0 already known); 1 waiting")
    assert describe(SyncReport(outcome="failed", error="no route", backlog=1,
                               retry_in=4)) == (
        "sync failed: no route; 1 event waits, next attempt in 4 s")
    info = {
        "gateway": "gw-a", "central": "embedded", "backlog": 1, "sync_running": False,
        "last_success_at": None, "last_result": None, "last_error": None,
        "failures_in_a_row": 0, "quarantined": 1,
        "quarantined_events": [{"event_id": "e-1", "consultation_id": "water-test",
                                "question_id": "priority", "error": "refused: why"}],
        "consultations": {"source": "FLOWS_DIR", "items": [], "error": None},
    }
    lines = render(info).splitlines()
    assert "backlog: 1 event waiting to sync" in lines
    assert "quarantined: 1 event refused by the centre" in lines
