"""create_app(): what every request goes through."""

from __future__ import annotations

from typing import Any

from redis import Redis
from rq import Queue
from sqlalchemy import event, func, select

from gateway.app import build_services
from gateway.application.outreach_scheduling import SEND_JOB
from gateway.settings import Settings
from gateway.store import schema
from gateway.sync.trigger import QUEUE_NAME
from tests.application.outreach_world import definition, publish
from tests.conftest import GatewayHarness, RecordingScheduler, RecordingTrigger
from tests.twilio_signing import new_sid


def stored_events(gateway: GatewayHarness) -> int:
    with gateway.services.store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(schema.events)).scalar_one()


def test_a_webhook_whose_write_fails_gets_an_error_answer_and_its_retry_counts_once(
    gateway: GatewayHarness,
) -> None:
    """The store refuses to write (SQLite's own refusal, as on a disk gone read-only):
    Twilio gets a 500, never a 200 with a reply, and its retry (same MessageSid) is
    recorded exactly once."""
    engine = gateway.services.store.engine
    sid = new_sid()

    def read_only(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA query_only=ON")

    event.listen(engine, "connect", read_only)
    engine.dispose()  # every connection from now on is read-only
    refused = gateway.client.post("/twilio/sms", {
        "MessageSid": sid, "AccountSid": "AC" + "0" * 32, "From": "+254712345678",
        "To": "+254700000001", "Body": "WATER", "NumSegments": "1", "NumMedia": "0",
    })
    assert refused.status_code == 500
    assert "<Message>" not in refused.get_data(as_text=True)

    event.remove(engine, "connect", read_only)
    engine.dispose()
    retried = gateway.client.sms("+254712345678", "WATER", sid=sid)
    assert retried.response.status_code == 200
    assert retried.reply.startswith("Water services")
    assert gateway.client.sms("+254712345678", "WATER", sid=sid).reply == retried.reply
    answer = new_sid()
    gateway.client.sms("+254712345678", "1", sid=answer)
    gateway.client.sms("+254712345678", "1", sid=answer)
    assert stored_events(gateway) == 1  # WATER started it; the answer, once



def test_the_sync_wakes_the_outreach_sender_and_reports_its_progress(
    settings: Settings,
) -> None:
    recorder = RecordingScheduler()
    services = build_services(settings, trigger=RecordingTrigger(),
                              callbacks=RecordingScheduler(), outreach=recorder)
    syncer = services.syncer
    assert syncer is not None and syncer.outreach_progress is not None
    assert syncer.outreach_progress() == []  # nothing published yet
    assert syncer.outreach_updated is not None
    publish(services.store.engine, definition(status="paused"))
    syncer.outreach_updated()
    assert recorder.delays == []  # nothing to send: no thread, no job
    publish(services.store.engine, definition(status="started"))
    syncer.outreach_updated()
    assert recorder.delays == [0.0]
    services.store.engine.dispose()


def test_a_sync_job_with_redis_queues_the_sender_when_outreach_starts(
    settings: Settings, redis_client: Redis, redis_url: str,
) -> None:
    from gateway.app import open_syncer

    with open_syncer(settings.with_overrides(redis_url=redis_url)) as (store, syncer):
        assert syncer.outreach_updated is not None
        publish(store.engine, definition(status="started"))
        syncer.outreach_updated()
        syncer.outreach_updated()  # one job waits at a time
    [job] = Queue(QUEUE_NAME, connection=redis_client).jobs
    assert job.func_name == SEND_JOB
