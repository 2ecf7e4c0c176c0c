"""Logs never carry a participant's full phone number or a secret."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from gateway.app import build_services, create_app
from gateway.application.callbacks import place_due_callbacks
from gateway.application.catalog_source import StaticCatalog
from gateway.central.app import create_central_app
from gateway.central.store.central_store import CentralStore
from gateway.consultation.catalogue import load_catalog
from gateway.database import make_engine
from gateway.store import schema
from tests.channels.voice_calls import Call
from tests.conftest import (
    FIXTURE_FLOWS,
    TEST_TOKEN,
    GatewayHarness,
    RecordingScheduler,
    RecordingTrigger,
    make_harness,
)
from tests.live import LiveServer, publish_fixture_flows
from tests.twilio_rest import ACCOUNT, FakeTwilio, placer_for
from tests.twilio_signing import TwilioClient, new_sid, recording_url

NUMBER = "+254712345678"


def test_conversation_logs_no_number_or_secret(
    settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    gateway: GatewayHarness = make_harness(settings.with_overrides(replies_per_hour=2))
    for body in ("WATER", "1", "yes", "STOP", "START"):
        gateway.client.sms(NUMBER, body)
    gateway.client.post("/twilio/sms", {"MessageSid": new_sid(), "From": NUMBER},
                        signature="bad")
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "reply cap reached for +*********678" in text  # masked, yet recognisable
    assert NUMBER not in text and NUMBER[1:] not in text
    assert TEST_TOKEN not in text and settings.pseudonym_key not in text


def test_voice_call_and_central_sync_log_no_number_or_secret(
    settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A whole voice call, SMS, and a sync to a centre over HTTP, logged at DEBUG (the
    HTTP client's and the centre's loggers included): numbers masked, no token or key."""
    caplog.set_level(logging.DEBUG)
    store = CentralStore.from_url(f"sqlite:///{tmp_path / 'central.db'}")
    store.create_schema()
    token = store.add_gateway("gw-logs", datetime.now(UTC))
    publish_fixture_flows(store)
    with LiveServer(create_central_app(settings, store)) as centre:
        gateway = make_harness(settings.with_overrides(central_url=centre.url,
                                                       central_token=token))
        call = Call(gateway.client, caller=NUMBER)
        call.start()
        for key in ("1", "1", "1", "4"):
            call.press(key)
        call.record(recording_url(), 9)
        call.press("2")
        call.hang_up()
        gateway.client.sms(NUMBER, "WATER")
        gateway.client.sms(NUMBER, "1")
        assert gateway.services.syncer is not None
        report = gateway.services.syncer.run(force=True)
        wrong = requests.post(f"{centre.url}/api/v1/events", json={"events": []}, timeout=10,
                              headers={"Authorization": "Bearer not-" + token})
        gateway.services.store.engine.dispose()
    store.engine.dispose()
    assert (report.outcome, report.sent, report.new) == ("synced", 6, 6)
    assert wrong.status_code == 401
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "POST /api/v1/events" in text  # the HTTP client's DEBUG lines were captured
    assert "unknown gateway token from 127.0.0.1" in text
    for secret in (NUMBER, NUMBER[1:], token, TEST_TOKEN, settings.pseudonym_key):
        assert secret not in text


def test_failed_call_back_logs_the_number_masked(
    settings, tmp_path: Path, caplog: pytest.LogCaptureFixture, fake_twilio: str
) -> None:
    """Twilio's refusal names the number called; the log and the stored error do not."""
    caplog.set_level(logging.DEBUG)
    flows = tmp_path / "flows"
    flows.mkdir()
    text = (FIXTURE_FLOWS / "water.yaml").read_text(encoding="utf-8")
    line = 'voice:\n  numbers: ["+254700000001"]\n'
    (flows / "water.yaml").write_text(text.replace(line, line + "  callback: true\n"),
                                      encoding="utf-8")
    FakeTwilio.status = 400
    FakeTwilio.message = f"The 'To' number {NUMBER} is not a valid phone number."
    configured = settings.with_overrides(
        flows_dir=flows, public_base_url="https://ivr.example.org",
        twilio_account_sid=ACCOUNT, twilio_from_number="+254700000009")
    services = build_services(configured, catalog=StaticCatalog(load_catalog([flows])),
                              trigger=RecordingTrigger(), call_placer=placer_for(fake_twilio),
                              callbacks=RecordingScheduler())
    client = TwilioClient(create_app(services=services).test_client(), TEST_TOKEN,
                          base_url="https://ivr.example.org")
    assert Call(client, caller=NUMBER).start().verbs == ["Reject"]
    assert place_due_callbacks(services) == 0
    with services.store.engine.connect() as conn:
        [error] = conn.execute(select(schema.callbacks.c.last_error)).scalars().all()
    services.store.engine.dispose()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "call-back 1 to +*********678 failed (attempt 1): HTTP 400 error" in logged
    assert "The 'To' number +*********678 is not a valid" in logged
    for secret in (NUMBER, NUMBER[1:], TEST_TOKEN):
        assert secret not in logged and secret not in error


def test_database_errors_do_not_carry_the_values(tmp_path: Path) -> None:
    """A failing statement's error (as logged with its traceback) omits its parameters."""
    engine = make_engine(f"sqlite:///{tmp_path / 'g.db'}")
    with pytest.raises(SQLAlchemyError) as failed, engine.begin() as conn:
        conn.execute(text("INSERT INTO nowhere (phone) VALUES (:phone)"), {"phone": NUMBER})
    engine.dispose()
    assert "INSERT INTO nowhere" in str(failed.value)
    assert NUMBER not in str(failed.value) and "parameters hidden" in str(failed.value)
