"""The default single machine: no CENTRAL_URL, the central store in the gateway's process."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import select

from gateway.app import build_services, create_app
from gateway.application.services import Services
from gateway.central.store import schema as central_schema
from gateway.central.store.gateways import hash_token
from gateway.cli import cli
from gateway.embedded_centre import EmbeddedCentral
from gateway.settings import Settings, SettingsError
from gateway.store.outbox import OutboxStore
from gateway.sync.trigger import InProcessSyncTrigger
from tests.conftest import TEST_TOKEN, RecordingTrigger
from tests.live import LiveServer, wait_until
from tests.loopback_centre import flows_dir_copy, take_part
from tests.twilio_signing import TwilioClient


@pytest.fixture
def settings(database_url: str, central_database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        twilio_auth_token=TEST_TOKEN,
        database_url=database_url,
        central_database_url=central_database_url,
        flows_dir=flows_dir_copy(tmp_path),
        pseudonym_key="test-pseudonym-key-0123456789",
        sqlite_synchronous="NORMAL",
        sync_interval=60,
    )


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    services = build_services(settings)  # the real in-process trigger
    yield services
    if isinstance(services.trigger, InProcessSyncTrigger):
        services.trigger.close()
    services.store.engine.dispose()
    if services.central is not None:
        services.central.store.engine.dispose()


def central_events(services: Services) -> list[dict]:
    assert services.central is not None
    with services.central.store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(central_schema.events))]


def test_answers_reach_the_embedded_centre_through_its_api(services: Services) -> None:
    assert isinstance(services.trigger, InProcessSyncTrigger)
    app = create_app(services=services)
    client = TwilioClient(app.test_client(), TEST_TOKEN)
    accepted: Counter = Counter()
    for n in range(5):
        accepted += take_part(client, n)
    wait_until(lambda: len(central_events(services)) == 25, timeout=20)
    rows = central_events(services)
    assert Counter((r["consultation_id"], r["question_id"], r["value"]) for r in rows) == accepted
    assert {r["gateway"] for r in rows} == {"local"}
    wait_until(lambda: OutboxStore(services.store.engine).backlog() == 0, timeout=20)


def test_flows_are_published_and_a_token_issued_at_start(services: Services) -> None:
    app = create_app(services=services)
    assert services.central is not None
    published = {c.id: c.version for c in services.central.store.consultations()}
    assert published == {"water-test": 1, "roads-2025": 1}
    token = services.central.gateway_token()
    assert services.central.store.authenticate(token) == "local"
    with services.central.store.engine.connect() as conn:
        hashes = conn.execute(select(central_schema.gateways.c.token_hash)).scalars().all()
    assert hashes == [hash_token(token)]

    # The same API as a remote centre, on the gateway's own app, over loopback HTTP.
    with LiveServer(app) as server:
        listing = requests.get(server.url + "/api/v1/consultations", timeout=10,
                               headers={"Authorization": f"Bearer {token}"})
        assert listing.status_code == 200
        assert {c["id"] for c in listing.json()} == {"water-test", "roads-2025"}
        refused = requests.post(server.url + "/api/v1/events", json={"events": []},
                                timeout=10, headers={"Authorization": "Bearer wrong"})
        assert refused.status_code == 401
        assert refused.json()["error"] == "unauthorized"

    # A restart publishes nothing new and keeps the token.
    again = build_services(services.settings, trigger=services.trigger)
    try:
        create_app(services=again)
        assert {c.id: c.version for c in again.central.store.consultations()} == published  # type: ignore[union-attr]
        assert again.central.gateway_token() == token  # type: ignore[union-attr]
        with again.central.store.engine.connect() as conn:  # type: ignore[union-attr]
            assert conn.execute(select(central_schema.gateways.c.token_hash)).scalars().all() \
                == [hash_token(token)]
    finally:
        again.store.engine.dispose()
        again.central.store.engine.dispose()  # type: ignore[union-attr]


def test_wrong_tokens_from_this_host_do_not_lock_out_the_embedded_sync(
    settings: Settings,
) -> None:
    """The in-process sync reaches the embedded centre as 127.0.0.1, like anything else on
    the host (a local reverse proxy, a guesser with a shell): their wrong tokens are
    throttled, its correct one is not."""
    services = build_services(settings, trigger=RecordingTrigger())
    try:
        app = create_app(services=services)
        with LiveServer(app) as server:
            answers = [
                requests.post(server.url + "/api/v1/events", json={"events": []}, timeout=10,
                              headers={"Authorization": f"Bearer guess-{n}"}).status_code
                for n in range(11)
            ]
        assert answers == [401] * 10 + [429]
        accepted = take_part(TwilioClient(app.test_client(), TEST_TOKEN), 1)
        report = services.syncer.run(force=True)  # type: ignore[union-attr]
        assert (report.outcome, report.sent, report.new) == ("synced", 5, 5)
        rows = central_events(services)
        assert Counter((r["consultation_id"], r["question_id"], r["value"])
                       for r in rows) == accepted
    finally:
        services.store.engine.dispose()
        services.central.store.engine.dispose()  # type: ignore[union-attr]


def test_a_lost_centre_database_registers_the_gateway_again(
    services: Services, settings: Settings
) -> None:
    create_app(services=services)
    assert services.central is not None
    token = services.central.gateway_token()
    with services.central.store.engine.begin() as conn:
        conn.execute(central_schema.gateways.delete())
    assert services.central.store.authenticate(token) is None
    assert services.central.gateway_token() == token
    assert services.central.store.authenticate(token) == "local"


def test_another_secret_key_gives_another_token(services: Services, settings: Settings) -> None:
    create_app(services=services)
    assert services.central is not None
    token = services.central.gateway_token()
    other = EmbeddedCentral(settings.with_overrides(secret_key="another-secret-key-0123456789"))
    try:
        renewed = other.gateway_token()
        assert renewed != token
        assert other.store.authenticate(renewed) == "local"
        assert other.store.authenticate(token) is None
    finally:
        other.close()


def test_editing_flows_to_lose_a_question_with_responses_stops_start_up(
    services: Services, settings: Settings
) -> None:
    app = create_app(services=services)
    take_part(TwilioClient(app.test_client(), TEST_TOKEN), 1)
    wait_until(lambda: len(central_events(services)) == 5, timeout=20)
    water = settings.flows_dir / "water.yaml"
    water.write_text(water.read_text().replace("      - id: clinics\n        label: {en: "
                                               "Clinics, sw: Zahanati}\n", ""))
    restarted = build_services(settings, trigger=services.trigger)
    try:
        with pytest.raises(SettingsError, match="option 'clinics' of question 'priority'"):
            create_app(services=restarted)
    finally:
        restarted.store.engine.dispose()
        restarted.central.store.engine.dispose()  # type: ignore[union-attr]


def test_status_and_sync_commands(settings: Settings) -> None:
    services = build_services(settings, trigger=RecordingTrigger())  # the commands sync here
    try:
        take_part(TwilioClient(create_app(services=services).test_client(), TEST_TOKEN), 1)
    finally:
        services.store.engine.dispose()
        services.central.store.engine.dispose()  # type: ignore[union-attr]
    env = {
        "DATABASE_URL": settings.database_url,
        "CENTRAL_DATABASE_URL": settings.central_database_url,
        "FLOWS_DIR": str(settings.flows_dir),
        "CENTRAL_URL": "",
        "REDIS_URL": "",
    }
    runner = CliRunner()
    before = runner.invoke(cli, ["status"], env=env)
    assert before.exit_code == 0, before.output
    assert "backlog: 5 events waiting to sync" in before.output
    assert "last successful sync: never" in before.output
    assert "consultations: embedded central store" in before.output
    assert "roads-2025 v1, water-test v1" in before.output

    synced = runner.invoke(cli, ["sync", "--once"], env=env)
    assert synced.exit_code == 0, synced.output
    assert "synced 5 events (5 new, 0 already known); 0 waiting" in synced.output

    after = json.loads(runner.invoke(cli, ["status", "--json"], env=env).output)
    assert after["backlog"] == 0
    assert after["last_success_at"]
    assert after["last_result"] == "sent 5 (5 new, 0 already known)"
    assert after["quarantined"] == 0
    assert after["failures_in_a_row"] == 0
    assert [i["id"] for i in after["consultations"]["items"]] == ["roads-2025", "water-test"]


def test_keyword_then_stop_counts_as_a_callers_silence_does(services: Services) -> None:
    """Both reached question 1 and gave nothing: one no_answer each, by channel."""
    from gateway.central.store.tallies import TallyStore
    from tests.channels.voice_calls import Call

    app = create_app(services=services)
    client = TwilioClient(app.test_client(), TEST_TOKEN)
    client.sms("+254711000001", "WATER")
    client.sms("+254711000001", "STOP")
    call = Call(client, caller="+254711000002")
    call.start()
    call.press("1")  # English
    for _ in range(3):
        call.stay_silent()
    call.hang_up()
    assert services.central is not None
    wait_until(lambda: len(central_events(services)) == 2, timeout=20)
    tallies = TallyStore(services.central.store.engine)
    counts = {(c.question_id, c.status, c.channel): c.count
              for c in tallies.tally_counts("water-test", ("comment",))}
    assert counts == {("priority", "no_answer", "sms"): 1, ("priority", "no_answer", "voice"): 1}
    people = tallies.activity("water-test")["water-test"]
    assert (people.participants, people.participants_sms, people.participants_voice) == (2, 1, 1)
