"""Call-backs placed, retried and given up; placed again after a restart; and what the
gateway says at start-up when its consultations offer call-backs it cannot place."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import select

from gateway.app import build_services, create_app
from gateway.application.callback_scheduling import (
    PLACE_JOB,
    InProcessCallbackScheduler,
    RedisCallbackScheduler,
)
from gateway.application.callbacks import default_scheduler, place_due_callbacks
from gateway.channels.twilio_calls import OutboundNotConfigured
from gateway.privacy import pseudonym
from gateway.settings import Settings
from gateway.store import schema
from gateway.store.calls import CallsTx
from gateway.sync.trigger import QUEUE_NAME
from tests.application.callback_calls import OUR_NUMBER, PUBLIC, callbacks, settle
from tests.channels.voice_calls import KE, Call
from tests.conftest import (
    FIXTURE_FLOWS,
    GatewayHarness,
    RecordingCallPlacer,
    RecordingScheduler,
    RecordingTrigger,
    make_harness,
)


def local_settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'g.db'}",
                    central_database_url=f"sqlite:///{tmp_path / 'c.db'}",
                    flows_dir=FIXTURE_FLOWS)


def test_default_scheduler_follows_redis_url(tmp_path: Path, redis_url: str) -> None:
    settings = local_settings(tmp_path)
    without = build_services(settings, trigger=RecordingTrigger())
    assert isinstance(without.callbacks, InProcessCallbackScheduler)
    with_redis = build_services(settings.with_overrides(redis_url=redis_url),
                                trigger=RecordingTrigger())
    assert isinstance(with_redis.callbacks, RedisCallbackScheduler)
    assert isinstance(default_scheduler(with_redis), RedisCallbackScheduler)


def test_in_process_gateway_places_waiting_call_backs_at_start(tmp_path: Path) -> None:
    """Call-backs requested before a restart are placed by the next process."""
    settings = local_settings(tmp_path).with_overrides(
        public_base_url="https://ivr.example.org", twilio_from_number="+254700000009")
    first = build_services(settings, trigger=RecordingTrigger(), callbacks=RecordingScheduler())
    now = datetime.now(UTC)
    with first.store.participant(pseudonym("k", "+254712345678"), "+254712345678", now) as tx:
        CallsTx(tx).request_callback("+254712345678", "water-test", now)
    placer = RecordingCallPlacer()
    placed = threading.Event()
    original = placer.place_call

    def place_call(**kwargs: str) -> str:
        sid = original(**kwargs)
        placed.set()
        return sid

    placer.place_call = place_call  # type: ignore[method-assign]
    restarted = build_services(settings, trigger=RecordingTrigger(), call_placer=placer)
    assert isinstance(restarted.callbacks, InProcessCallbackScheduler)
    assert placed.wait(5)
    assert placer.placed[0]["to"] == "+254712345678"


def test_nothing_due_needs_no_placer(tmp_path: Path) -> None:
    settings = local_settings(tmp_path)
    services = build_services(settings, trigger=RecordingTrigger(),
                              callbacks=RecordingScheduler())
    assert place_due_callbacks(services) == 0
    assert services.call_placer is None


def test_redis_gateway_enqueues_waiting_call_backs_at_start(
    tmp_path: Path, redis_client: Redis, redis_url: str
) -> None:
    settings = local_settings(tmp_path).with_overrides(redis_url=redis_url)
    first = build_services(settings, trigger=RecordingTrigger(), callbacks=RecordingScheduler())
    queue = Queue(QUEUE_NAME, connection=redis_client)
    build_services(settings, trigger=RecordingTrigger())
    assert queue.count == 0  # nothing waiting, nothing enqueued
    now = datetime.now(UTC)
    with first.store.participant(pseudonym("k", "+254712345678"), "+254712345678", now) as tx:
        CallsTx(tx).request_callback("+254712345678", "water-test", now)
    build_services(settings, trigger=RecordingTrigger())
    assert [job.func_name for job in queue.jobs] == [PLACE_JOB]


def test_start_up_warns_when_call_backs_cannot_be_placed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    text = (FIXTURE_FLOWS / "water.yaml").read_text(encoding="utf-8")
    (flows / "water.yaml").write_text(text.replace(
        'numbers: ["+254700000001"]\n', 'numbers: ["+254700000001"]\n  callback: true\n'))
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'g.db'}",
                        central_database_url=f"sqlite:///{tmp_path / 'c.db'}", flows_dir=flows)
    services = build_services(settings, trigger=RecordingTrigger(),
                              callbacks=RecordingScheduler())
    with caplog.at_level(logging.WARNING, logger="gateway.app"):
        create_app(services=services)
    assert "water-test offer missed-call call-backs, but call-backs need TWILIO_ACCOUNT_SID" \
        in caplog.text
    caplog.clear()
    plain = build_services(settings.with_overrides(flows_dir=FIXTURE_FLOWS),
                           trigger=RecordingTrigger(), callbacks=RecordingScheduler())
    with caplog.at_level(logging.WARNING, logger="gateway.app"):
        create_app(services=plain)
    assert "call-backs" not in caplog.text


# --- placing, retrying, giving up ---------------------------------------------------------


def test_missed_call_is_rejected_free_and_called_back(callback_gateway: GatewayHarness) -> None:
    rejected = Call(callback_gateway.client).start()
    assert rejected.xml.endswith('<Response><Reject reason="busy" /></Response>')
    assert rejected.said == []
    [requested] = callbacks(callback_gateway)
    assert requested["status"] == "pending"
    assert requested["phone"] == KE
    assert requested["pseudonym"] == pseudonym(callback_gateway.services.settings.pseudonym_key, KE)
    assert requested["consultation_id"] == "water-test"
    assert callback_gateway.scheduler.delays == [0.0]  # woken after the commit
    assert callback_gateway.placer.placed == []  # nothing placed inside the webhook

    assert place_due_callbacks(callback_gateway.services) == 1
    [placed] = callback_gateway.placer.placed
    assert placed["to"] == KE
    assert placed["from_"] == OUR_NUMBER
    assert placed["url"] == f"{PUBLIC}/twilio/voice?c=water-test&cb={requested['id']}"
    assert placed["status_callback"] == f"{PUBLIC}/twilio/status"
    [row] = callbacks(callback_gateway)
    assert (row["status"], row["attempts"], row["call_sid"]) == ("placed", 1, placed["sid"])
    assert place_due_callbacks(callback_gateway.services) == 0  # placed once only

    # Twilio calls the participant and fetches the URL: the call is answered, not rejected.
    back = Call(callback_gateway.client, sid=placed["sid"], outbound=True,
                path=placed["url"].removeprefix(PUBLIC))
    menu = back.start()
    assert menu.prompt == ["For English, press 1.", "Kwa Kiswahili, bonyeza 2."]
    assert callbacks(callback_gateway)[0]["status"] == "answered"
    back.press("1")
    back.press("2")
    with callback_gateway.services.store.engine.connect() as conn:
        event = conn.execute(select(schema.events)).one()
    assert (event.question_id, event.value, event.channel) == ("priority", "roads", "voice")
    assert event.pseudonym == requested["pseudonym"]
    back.hang_up()
    assert callbacks(callback_gateway)[0]["status"] == "done"
    assert len(callback_gateway.placer.placed) == 1


def test_busy_call_back_is_retried_twice_spaced(callback_gateway: GatewayHarness) -> None:
    services = callback_gateway.services
    Call(callback_gateway.client).start()
    t0 = datetime.now(UTC)
    assert place_due_callbacks(services, now=t0) == 1
    settle(callback_gateway, "busy")
    [row] = callbacks(callback_gateway)
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert callback_gateway.scheduler.delays[-1] == pytest.approx(120, abs=5)
    assert place_due_callbacks(services, now=t0 + timedelta(minutes=1)) == 0  # not yet due
    assert place_due_callbacks(services, now=t0 + timedelta(minutes=3)) == 1
    settle(callback_gateway, "no-answer")
    assert callback_gateway.scheduler.delays[-1] == pytest.approx(600, abs=5)
    assert place_due_callbacks(services, now=t0 + timedelta(minutes=8)) == 0
    assert place_due_callbacks(services, now=t0 + timedelta(minutes=14)) == 1
    settle(callback_gateway, "busy")
    [row] = callbacks(callback_gateway)
    assert (row["status"], row["attempts"], row["last_error"]) == ("failed", 3, "busy")
    assert place_due_callbacks(services, now=t0 + timedelta(hours=2)) == 0
    assert len(callback_gateway.placer.placed) == 3
    assert len({p["sid"] for p in callback_gateway.placer.placed}) == 3


def test_repeated_status_callback_schedules_one_retry(callback_gateway: GatewayHarness) -> None:
    Call(callback_gateway.client).start()
    place_due_callbacks(callback_gateway.services)
    settle(callback_gateway, "busy")
    settle(callback_gateway, "busy")
    [row] = callbacks(callback_gateway)
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert len(callback_gateway.scheduler.delays) == 2  # the request, then one retry


def test_failed_and_canceled_call_backs_are_not_retried(callback_gateway: GatewayHarness) -> None:
    for status in ("failed", "canceled"):
        Call(callback_gateway.client, caller="+25472200011" + str(len(status))).start()
        place_due_callbacks(callback_gateway.services)
        settle(callback_gateway, status)
    assert [(r["status"], r["last_error"]) for r in callbacks(callback_gateway)] == [
        ("failed", "failed"), ("failed", "canceled")]


def test_twilio_refusing_a_call_back_is_retried_then_given_up(
    callback_gateway: GatewayHarness,
) -> None:
    services = callback_gateway.services
    callback_gateway.placer.fail = "HTTP 400 error: The 'To' number is not a valid phone number."
    Call(callback_gateway.client).start()
    t0 = datetime.now(UTC)
    for minutes in (0, 2, 8):
        assert place_due_callbacks(services, now=t0 + timedelta(minutes=minutes)) == 0
        assert callbacks(callback_gateway)[0]["status"] == "pending"
    place_due_callbacks(services, now=t0 + timedelta(minutes=30))
    [row] = callbacks(callback_gateway)
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
