"""Sending from a gateway process, and what it reports: preview, counts, answers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from gateway.app import build_services
from gateway.application.outreach_runner import progress_reports, send_outreach
from gateway.application.services import Services
from gateway.settings import Settings
from gateway.store import schema
from gateway.store.outbound import OutboundStore
from tests.application.outreach_world import definition, participant, publish
from tests.conftest import RecordingScheduler, RecordingTrigger
from tests.twilio_outbound import TwilioOutbound


@pytest.fixture
def services(settings: Settings, twilio_outbound: TwilioOutbound) -> Iterator[Services]:
    built = build_services(settings.with_overrides(outreach_batch_size=1),
                           trigger=RecordingTrigger(), callbacks=RecordingScheduler(),
                           outreach=RecordingScheduler())
    built.outbound_sender = twilio_outbound.sender()
    yield built
    built.store.engine.dispose()


def answer(services: Services, who: str, at: datetime) -> None:
    with services.store.engine.begin() as conn:
        conn.execute(insert(schema.events).values(
            event_id=f"e-{who[:8]}-{at.timestamp()}", consultation_id="water-test",
            question_id="priority", pseudonym=who, channel="sms", status="answered",
            value="water", language="en", answered_at=at))


def test_a_pass_sends_what_is_due_and_asks_to_come_back(
    services: Services, twilio_outbound: TwilioOutbound,
) -> None:
    engine = services.store.engine
    participant(engine, "+254711000001")
    publish(engine, definition())
    report = send_outreach(services)
    assert report.sent == 1 and len(twilio_outbound.messages) == 1
    assert isinstance(services.outreach, RecordingScheduler)
    assert services.outreach.delays == [30.0]  # still in its window: the sweep returns


def test_nothing_due_asks_for_nothing(services: Services) -> None:
    publish(services.store.engine, definition(status="paused"))
    assert send_outreach(services).sent == 0
    assert isinstance(services.outreach, RecordingScheduler)
    assert services.outreach.delays == []


def test_progress_counts_rows_and_those_who_answered_after_their_message(
    services: Services,
) -> None:
    engine = services.store.engine
    first = participant(engine, "+254711000001")
    second = participant(engine, "+254711000002")
    participant(engine, "+254711000003", opted_out=True)
    publish(engine, definition(), definition(id="o-2", status="cancelled"))
    answer(services, second, datetime.now(UTC) - timedelta(days=1))  # before: not counted
    send_outreach(services)
    answer(services, first, datetime.now(UTC) + timedelta(seconds=1))
    reports = {r["id"]: r for r in progress_reports(engine, {})}
    assert reports["o-1"]["counts"]["sent"] == 2
    assert reports["o-1"]["answered"] == 1
    assert reports["o-1"]["preview"]["excluded"]["contacted_already"] == 2
    assert reports["o-1"]["preview"]["excluded"]["opted_out"] == 1
    assert "preview" not in reports["o-2"]  # cancelled: it reaches nobody more
    assert OutboundStore(engine).counts("o-2")["sent"] == 0
