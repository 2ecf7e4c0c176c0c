"""Calls and call-backs in the local store, on SQLite files and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.app import build_services
from gateway.application.rules import retry_delay
from gateway.application.services import Services
from gateway.consultation.voice_call import CallState
from gateway.privacy import pseudonym
from gateway.settings import Settings
from gateway.store import schema
from gateway.store.calls import STALE_CLAIM, CallbackStatus, CallStatus, CallStore, CallsTx
from tests.conftest import FIXTURE_FLOWS, RecordingScheduler, RecordingTrigger
from tests.store.test_participants import run_together

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


@pytest.fixture
def services(database_url: str, tmp_path: Path) -> Iterator[Services]:
    settings = Settings(database_url=database_url, flows_dir=FIXTURE_FLOWS,
                        central_database_url=f"sqlite:///{tmp_path / 'central.db'}")
    services = build_services(settings, trigger=RecordingTrigger(),
                              callbacks=RecordingScheduler())
    yield services
    services.store.engine.dispose()


def request_callbacks(services: Services, count: int) -> list[int]:
    ids = []
    for n in range(count):
        phone = f"+2547220001{n:02d}"
        with services.store.participant(pseudonym("k", phone), phone, T0) as tx:
            ids.append(CallsTx(tx).request_callback(phone, "water-test", T0))
    return ids


def test_two_sweeps_at_once_claim_each_call_back_once(services: Services) -> None:
    ids = request_callbacks(services, 12)
    store = CallStore(services.store.engine)
    claims = run_together([lambda: store.claim_due(T0, limit=50) for _ in range(4)])
    claimed = [c.id for batch in claims for c in batch]  # type: ignore[union-attr]
    assert sorted(claimed) == ids
    assert store.claim_due(T0) == []


def test_a_stale_claim_is_taken_again(services: Services) -> None:
    [cid] = request_callbacks(services, 1)
    store = CallStore(services.store.engine)
    [claim] = store.claim_due(T0)
    assert claim.attempts == 1
    assert store.claim_due(T0 + timedelta(minutes=1)) == []  # another placer is on it
    [again] = store.claim_due(T0 + STALE_CLAIM + timedelta(seconds=1))
    assert (again.id, again.attempts) == (cid, 2)


def test_call_state_round_trip_and_ending(services: Services) -> None:
    who = pseudonym("k", "+254712345678")
    state = CallState("water-test", "sw", position=3, silences=1, invalid_tries=2, step=7)
    with services.store.participant(who, "+254712345678", T0) as tx:
        calls = CallsTx(tx)
        assert calls.get("CA1") is None
        calls.save("CA1", state, CallStatus.ACTIVE, T0)
    with services.store.participant(who, "+254712345678", T0) as tx:
        stored = CallsTx(tx).get("CA1")
    assert stored is not None
    assert (stored.pseudonym, stored.state, stored.status) == (who, state, CallStatus.ACTIVE)
    store = CallStore(services.store.engine)
    end = store.call_ended("CA1", "completed", T0 + timedelta(minutes=3), retry_delay)
    assert end.callback_id is None
    store.call_ended("CA1", "completed", T0 + timedelta(minutes=9), retry_delay)
    with services.store.engine.connect() as conn:
        row = conn.execute(select(schema.calls)).one()
    assert row.status == CallStatus.ENDED
    assert row.ended_at.replace(tzinfo=UTC) == T0 + timedelta(minutes=3)  # the first end


def test_resume_positions_take_the_latest_unfinished_call(services: Services) -> None:
    who = pseudonym("k", "+254712345678")
    with services.store.participant(who, "+254712345678", T0) as tx:
        calls = CallsTx(tx)
        calls.save("CA1", CallState("water-test", "en", 2), CallStatus.ENDED, T0)
        calls.save("CA2", CallState("water-test", "en", 4), CallStatus.ENDED,
                   T0 + timedelta(hours=1))
        calls.save("CA3", CallState("water-test", "en", 5, finished=True), CallStatus.FINISHED,
                   T0 - timedelta(hours=1))
        calls.save("CA4", CallState("water-test", None, 0), CallStatus.ACTIVE,
                   T0 + timedelta(hours=2))
        assert calls.resume_positions(T0 - timedelta(hours=5), exclude_call="CA9") == {
            "water-test": 4}
        assert calls.resume_positions(T0 - timedelta(hours=5), exclude_call="CA2") == {
            "water-test": 2}
        assert calls.resume_positions(T0 + timedelta(hours=3), exclude_call="CA9") == {}


def test_open_callbacks_count(services: Services) -> None:
    store = CallStore(services.store.engine)
    assert store.open_callbacks() == 0
    [cid, _] = request_callbacks(services, 2)
    store.placement_failed(cid, "gone", T0, None)
    assert store.open_callbacks() == 1
    with services.store.engine.connect() as conn:
        statuses = conn.execute(select(schema.callbacks.c.status)
                                .order_by(schema.callbacks.c.id)).scalars().all()
    assert statuses == [CallbackStatus.FAILED, CallbackStatus.PENDING]
