"""Missed-call call-backs: rejected for free, called back, limited per day, retried if busy."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.application.call_steps import CallStart, handle_call_start
from gateway.application.callbacks import place_due_callbacks
from gateway.channels.twilio_calls import OutboundNotConfigured
from gateway.channels.voice import TwimlRenderer
from gateway.privacy import pseudonym
from gateway.settings import Settings
from gateway.store import schema
from tests.channels.voice_calls import KE, Call
from tests.conftest import FIXTURE_FLOWS, GatewayHarness, make_harness
from tests.twilio_signing import ACCOUNT_SID, new_sid

PUBLIC = "https://ivr.example.org"
OUR_NUMBER = "+254700000009"


@pytest.fixture
def callback_flows(tmp_path: Path) -> Path:
    flows = tmp_path / "flows"
    flows.mkdir()
    text = (FIXTURE_FLOWS / "water.yaml").read_text(encoding="utf-8")
    old = 'voice:\n  numbers: ["+254700000001"]\n'
    assert old in text
    (flows / "water.yaml").write_text(text.replace(old, old + "  callback: true\n"),
                                      encoding="utf-8")
    return flows


@pytest.fixture
def gateway(settings: Settings, callback_flows: Path) -> GatewayHarness:
    harness = make_harness(settings.with_overrides(
        flows_dir=callback_flows, public_base_url=PUBLIC, twilio_from_number=OUR_NUMBER))
    harness.client.base_url = PUBLIC
    return harness


def callbacks(gateway: GatewayHarness) -> list[dict]:
    with gateway.services.store.engine.connect() as conn:
        rows = conn.execute(select(schema.callbacks).order_by(schema.callbacks.c.id))
        return [dict(r._mapping) for r in rows]


def settle(gateway: GatewayHarness, status: str = "completed") -> None:
    """Twilio's final status callback for the last call-back placed."""
    sid = gateway.placer.placed[-1]["sid"]
    response = gateway.client.post("/twilio/status", {
        "CallSid": sid, "CallStatus": status, "From": OUR_NUMBER, "To": KE,
        "Direction": "outbound-api", "AccountSid": ACCOUNT_SID,
    })
    assert response.status_code == 204


def test_missed_call_is_rejected_free_and_called_back(gateway: GatewayHarness) -> None:
    rejected = Call(gateway.client).start()
    assert rejected.xml.endswith('<Response><Reject reason="busy" /></Response>')
    assert rejected.said == []
    [requested] = callbacks(gateway)
    assert requested["status"] == "pending"
    assert requested["phone"] == KE
    assert requested["pseudonym"] == pseudonym(gateway.services.settings.pseudonym_key, KE)
    assert requested["consultation_id"] == "water-test"
    assert gateway.scheduler.delays == [0.0]  # woken after the commit
    assert gateway.placer.placed == []  # nothing placed inside the webhook

    assert place_due_callbacks(gateway.services) == 1
    [placed] = gateway.placer.placed
    assert placed["to"] == KE
    assert placed["from_"] == OUR_NUMBER
    assert placed["url"] == f"{PUBLIC}/twilio/voice?c=water-test&cb={requested['id']}"
    assert placed["status_callback"] == f"{PUBLIC}/twilio/status"
    [row] = callbacks(gateway)
    assert (row["status"], row["attempts"], row["call_sid"]) == ("placed", 1, placed["sid"])
    assert place_due_callbacks(gateway.services) == 0  # placed once only

    # Twilio calls the participant and fetches the URL: the call is answered, not rejected.
    back = Call(gateway.client, sid=placed["sid"], outbound=True,
                path=placed["url"].removeprefix(PUBLIC))
    menu = back.start()
    assert menu.prompt == ["For English, press 1.", "Kwa Kiswahili, bonyeza 2."]
    assert callbacks(gateway)[0]["status"] == "answered"
    back.press("1")
    back.press("2")
    with gateway.services.store.engine.connect() as conn:
        event = conn.execute(select(schema.events)).one()
    assert (event.question_id, event.value, event.channel) == ("priority", "roads", "voice")
    assert event.pseudonym == requested["pseudonym"]
    back.hang_up()
    assert callbacks(gateway)[0]["status"] == "done"
    assert len(gateway.placer.placed) == 1


def test_a_second_missed_call_while_one_is_waiting_adds_nothing(gateway: GatewayHarness) -> None:
    Call(gateway.client).start()
    Call(gateway.client).start()
    assert len(callbacks(gateway)) == 1


def test_retried_start_does_not_request_twice(gateway: GatewayHarness) -> None:
    call = Call(gateway.client)
    first = call.start()
    assert call.start().xml == first.xml
    assert len(callbacks(gateway)) == 1


def test_call_backs_are_limited_per_number_per_day(
    gateway: GatewayHarness, caplog: pytest.LogCaptureFixture
) -> None:
    limit = gateway.services.settings.callbacks_per_day
    assert limit == 3
    for _ in range(limit):
        assert Call(gateway.client).start().verbs == ["Reject"]
        place_due_callbacks(gateway.services)
        settle(gateway)
    assert len(callbacks(gateway)) == limit
    with caplog.at_level(logging.WARNING, logger="gateway.application.call_steps"):
        over = Call(gateway.client).start()
    assert over.verbs == ["Reject"]  # the caller hears nothing different, and pays nothing
    assert len(callbacks(gateway)) == limit
    assert place_due_callbacks(gateway.services) == 0
    assert "+*********678" in caplog.text and KE not in caplog.text
    assert "call-back limit (3 a day) reached" in caplog.text
    # another number is not limited by this one
    Call(gateway.client, caller="+254722000111").start()
    assert len(callbacks(gateway)) == limit + 1


def test_the_limit_is_a_rolling_day(gateway: GatewayHarness) -> None:
    services = gateway.services
    render = TwimlRenderer(services.settings, PUBLIC).render
    start = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)

    def missed(sid: str, at: datetime) -> str:
        return handle_call_start(services, CallStart(sid, KE, "water-test", inbound=True),
                                 render, now=at)

    for n in range(3):
        at = start + timedelta(hours=n)
        missed(new_sid("CA"), at)
        place_due_callbacks(services, now=at)
        settle(gateway)
    missed(new_sid("CA"), start + timedelta(hours=23))
    assert len(callbacks(gateway)) == 3
    missed(new_sid("CA"), start + timedelta(hours=24, minutes=1))
    assert len(callbacks(gateway)) == 4


def test_busy_call_back_is_retried_twice_spaced(gateway: GatewayHarness) -> None:
    services = gateway.services
    Call(gateway.client).start()
    t0 = datetime.now(UTC)
    assert place_due_callbacks(services, now=t0) == 1
    settle(gateway, "busy")
    [row] = callbacks(gateway)
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert gateway.scheduler.delays[-1] == pytest.approx(120, abs=5)
    assert place_due_callbacks(services, now=t0 + timedelta(minutes=1)) == 0  # not yet due
    assert place_due_callbacks(services, now=t0 + timedelta(minutes=3)) == 1
    settle(gateway, "no-answer")
    assert gateway.scheduler.delays[-1] == pytest.approx(600, abs=5)
    assert place_due_callbacks(services, now=t0 + timedelta(minutes=8)) == 0
    assert place_due_callbacks(services, now=t0 + timedelta(minutes=14)) == 1
    settle(gateway, "busy")
    [row] = callbacks(gateway)
    assert (row["status"], row["attempts"], row["last_error"]) == ("failed", 3, "busy")
    assert place_due_callbacks(services, now=t0 + timedelta(hours=2)) == 0
    assert len(gateway.placer.placed) == 3
    assert len({p["sid"] for p in gateway.placer.placed}) == 3


def test_repeated_status_callback_schedules_one_retry(gateway: GatewayHarness) -> None:
    Call(gateway.client).start()
    place_due_callbacks(gateway.services)
    settle(gateway, "busy")
    settle(gateway, "busy")
    [row] = callbacks(gateway)
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert len(gateway.scheduler.delays) == 2  # the request, then one retry


def test_failed_and_canceled_call_backs_are_not_retried(gateway: GatewayHarness) -> None:
    for status in ("failed", "canceled"):
        Call(gateway.client, caller="+25472200011" + str(len(status))).start()
        place_due_callbacks(gateway.services)
        settle(gateway, status)
    assert [(r["status"], r["last_error"]) for r in callbacks(gateway)] == [
        ("failed", "failed"), ("failed", "canceled")]


def test_twilio_refusing_a_call_back_is_retried_then_given_up(gateway: GatewayHarness) -> None:
    services = gateway.services
    gateway.placer.fail = "HTTP 400 error: The 'To' number is not a valid phone number."
    Call(gateway.client).start()
    t0 = datetime.now(UTC)
    for minutes in (0, 2, 8):
        assert place_due_callbacks(services, now=t0 + timedelta(minutes=minutes)) == 0
        assert callbacks(gateway)[0]["status"] == "pending"
    place_due_callbacks(services, now=t0 + timedelta(minutes=30))
    [row] = callbacks(gateway)
    assert (row["status"], row["attempts"]) == ("failed", 4)
    assert "not a valid phone number" in row["last_error"]


def test_without_twilio_credentials_the_call_back_waits_with_a_clear_error(
    settings: Settings, callback_flows: Path
) -> None:
    gateway = make_harness(settings.with_overrides(flows_dir=callback_flows))
    gateway.services.call_placer = None  # as in production: Twilio's placer, built on use
    Call(gateway.client).start()
    with pytest.raises(OutboundNotConfigured) as error:
        place_due_callbacks(gateway.services)
    assert str(error.value) == (
        "call-backs need TWILIO_ACCOUNT_SID, TWILIO_FROM_NUMBER, PUBLIC_BASE_URL "
        "(PUBLIC_BASE_URL: the https address Twilio reaches this gateway at)"
    )  # the auth token is set (it checks signatures); the rest is missing
    assert callbacks(gateway)[0]["status"] == "pending"  # kept for when it is configured


def test_closed_consultation_is_not_called_back(settings: Settings, tmp_path: Path) -> None:
    flows = tmp_path / "closed"
    flows.mkdir()
    text = (FIXTURE_FLOWS / "closed.yaml").read_text(encoding="utf-8")
    (flows / "closed.yaml").write_text(
        text + 'voice:\n  numbers: ["+254700000002"]\n  callback: true\n', encoding="utf-8")
    gateway = make_harness(settings.with_overrides(flows_dir=flows))
    twiml = Call(gateway.client, called="+254700000002").start()
    assert twiml.said == ["Roads survey is closed. Thank you for your interest."]
    assert callbacks(gateway) == []
