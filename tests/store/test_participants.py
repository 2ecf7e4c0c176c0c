"""The local store under concurrency, on SQLite files and PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gateway.app import build_services
from gateway.application import call_steps, incoming_sms
from gateway.application.call_steps import CallStart, handle_call_start
from gateway.application.catalog_source import StaticCatalog
from gateway.application.incoming_sms import InboundSms, handle_sms
from gateway.application.services import Services
from gateway.channels.voice_twiml import TwimlRenderer
from gateway.consultation.catalogue import load_catalog
from gateway.settings import Settings
from gateway.store import schema
from tests.conftest import FIXTURE_FLOWS, RecordingTrigger
from tests.twilio_signing import new_sid

KE = "+254712345678"


@pytest.fixture
def services(database_url: str, tmp_path: Path) -> Services:
    settings = Settings(database_url=database_url, flows_dir=FIXTURE_FLOWS,
                        central_database_url=f"sqlite:///{tmp_path / 'central.db'}")
    services = build_services(
        settings, catalog=StaticCatalog(load_catalog([FIXTURE_FLOWS])), trigger=RecordingTrigger()
    )
    yield services
    services.store.engine.dispose()


def run_together(tasks: list[Callable[[], object]]) -> list[object]:
    barrier = threading.Barrier(len(tasks))
    results: list[object] = [None] * len(tasks)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = tasks[i]()
        except BaseException as exc:  # noqa: BLE001 - re-raised below in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(tasks))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    if errors:
        raise errors[0]
    return results


def count(services: Services, table) -> int:
    with services.store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_same_message_delivered_concurrently_is_recorded_once(services: Services) -> None:
    handle_sms(services, InboundSms(new_sid(), KE, "WATER"))
    sid = new_sid()
    replies = run_together([lambda: handle_sms(services, InboundSms(sid, KE, "1"))] * 4)
    assert len(set(replies)) == 1
    assert count(services, schema.events) == 1


def test_concurrent_answers_from_one_number_are_applied_in_turn(services: Services) -> None:
    handle_sms(services, InboundSms(new_sid(), KE, "WATER"))
    # "1" is a valid answer to each of the first three questions.
    run_together([lambda: handle_sms(services, InboundSms(new_sid(), KE, "1"))] * 3)
    with services.store.engine.connect() as conn:
        questions = conn.execute(
            select(schema.events.c.question_id).order_by(schema.events.c.seq)
        ).scalars().all()
        position = conn.execute(select(schema.sessions.c.position)).scalar_one()
    assert questions == ["priority", "enough", "satisfaction"]
    assert position == 3


def test_many_participants_at_once(services: Services) -> None:
    numbers = [f"+2547123450{i:02d}" for i in range(12)]
    run_together([lambda n=n: handle_sms(services, InboundSms(new_sid(), n, "WATER"))
                  for n in numbers])
    run_together([lambda n=n: handle_sms(services, InboundSms(new_sid(), n, "2"))
                  for n in numbers])
    assert count(services, schema.participants) == 12
    assert count(services, schema.events) == 12
    assert count(services, schema.inbound) == 24


def test_the_region_is_looked_up_before_the_write_lock(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A number's first region lookup can load the geocoder's data (tenths of a second):
    no other webhook may wait for it behind the write lock."""
    if services.store.engine.dialect.name != "sqlite":
        pytest.skip("the write lock is SQLite's")
    database = services.store.engine.url.database or ""
    looked_up: list[bool] = []

    def probe(e164: str, prefixes: Mapping[str, str]) -> str:
        other = sqlite3.connect(database, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # refused at once while a webhook holds it
            other.execute("ROLLBACK")
            looked_up.append(True)
        except sqlite3.OperationalError:
            looked_up.append(False)
        finally:
            other.close()
        return "KE"

    monkeypatch.setattr(incoming_sms, "region_for", probe)
    monkeypatch.setattr(call_steps, "region_for", probe)
    handle_sms(services, InboundSms(new_sid(), KE, "WATER"))
    handle_sms(services, InboundSms(new_sid(), KE, "2"))
    render = TwimlRenderer(services.settings, "https://gateway.example").render
    handle_call_start(services, CallStart(new_sid("CA"), KE, "water-test", inbound=True), render)
    assert looked_up == [True, True, True]
    with services.store.engine.connect() as conn:
        assert conn.execute(select(schema.events.c.region)).scalars().all() == ["KE"]


def test_sessions_in_progress_and_events_by_question(services: Services) -> None:
    """What a call resumes from (positions moved since a time) and what STOP checks
    before leaving a question as no_answer (any event for it), on both databases."""
    from datetime import UTC, datetime, timedelta

    from gateway.consultation.model import AnswerStatus
    from gateway.consultation.sms_conversation import Recorded, SessionState

    t0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    with services.store.participant("p1", KE, t0) as tx:
        assert tx.positions_since(t0 - timedelta(hours=1)) == {}
        tx.save_session(SessionState("water-test", "en", position=2), t0)
        tx.save_session(SessionState("roads-2025", "en", position=3, completed=True), t0)
        tx.record_events((Recorded("water-test", "priority", AnswerStatus.ANSWERED, "roads",
                                   "2", "en"),), "sms", t0, None)
    with services.store.participant("p1", KE, t0 + timedelta(hours=2)) as tx:
        assert tx.positions_since(t0 - timedelta(minutes=1)) == {"water-test": 2}
        assert tx.positions_since(t0 + timedelta(minutes=1)) == {}  # moved too long ago
        assert tx.has_event("water-test", "priority")
        assert not tx.has_event("water-test", "enough")
    with services.store.participant("p2", "+254712345679", t0) as tx:
        assert not tx.has_event("water-test", "priority")  # someone else's
