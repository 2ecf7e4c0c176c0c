"""Consultations published at the centre reach gateways through the sync, and survive a
restart without the centre."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import update

from gateway.app import build_services, create_app
from gateway.application.catalog_source import CentralCatalog
from gateway.application.services import Services
from gateway.central.store import schema as central_schema
from gateway.settings import Settings
from gateway.store.sync_state import SyncStateStore
from gateway.sync import catalog
from tests.conftest import FIXTURE_FLOWS, RecordingTrigger
from tests.loopback_centre import Centre, gateway_settings, open_centre
from tests.twilio_signing import TwilioClient

WATER = (FIXTURE_FLOWS / "water.yaml").read_text()
# The centre's version: a new keyword, and a question the fixture file does not have.
CENTRAL_WATER = WATER.replace("keywords: [WATER, MAJI]", "keywords: [WATER, MAJI, TAP]")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def services_for(settings: Settings) -> Services:
    """A gateway process as `civicline serve` builds it: the catalog from the centre."""
    return build_services(settings, trigger=RecordingTrigger())


@pytest.fixture
def centre(central_database_url: str) -> Iterator[Centre]:
    """Here the centre starts with nothing published: each test publishes its own."""
    centre = open_centre(central_database_url, published=False)
    centre.start()
    yield centre
    centre.stop()
    centre.store.engine.dispose()


@pytest.fixture
def settings(database_url: str, centre: Centre) -> Settings:
    return gateway_settings(database_url, centre, "gw-cat")


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    services = services_for(settings)
    yield services
    services.store.engine.dispose()


def publish(centre: Centre, text: str) -> None:
    centre.store.publish(text, "water.yaml", datetime.now(UTC))


def test_flows_dir_until_the_first_fetch_then_the_central_set(
    centre: Centre, services: Services
) -> None:
    catalog = services.catalog
    assert isinstance(catalog, CentralCatalog)
    assert {c.id for c in catalog.current().consultations} == {"water-test", "roads-2025"}
    assert catalog.source == "FLOWS_DIR"

    publish(centre, CENTRAL_WATER)
    report = services.syncer.run()  # type: ignore[union-attr]
    assert report.consultations == "updated"
    other_worker = CentralCatalog(SyncStateStore(services.store.engine), FIXTURE_FLOWS,
                                  check_every=0)
    [water] = other_worker.current().consultations
    assert water.keywords == ("WATER", "MAJI", "TAP")
    assert other_worker.source.startswith("central ")

    assert services.syncer.run().consultations == "unchanged"  # type: ignore[union-attr]


def test_each_process_sees_a_refresh_within_its_check_interval(
    centre: Centre, services: Services
) -> None:
    publish(centre, WATER)
    services.syncer.run()  # type: ignore[union-attr]
    clock = Clock()
    worker = CentralCatalog(SyncStateStore(services.store.engine), FIXTURE_FLOWS,
                            check_every=2.0, clock=clock)
    assert worker.current().consultations[0].keywords == ("WATER", "MAJI")

    publish(centre, CENTRAL_WATER)
    assert services.syncer.run().consultations == "updated"  # type: ignore[union-attr]
    clock.now = 1.0
    assert worker.current().consultations[0].keywords == ("WATER", "MAJI")  # not checked yet
    clock.now = 2.5
    assert worker.current().consultations[0].keywords == ("WATER", "MAJI", "TAP")


def test_restart_while_the_centre_is_away_serves_the_cached_set(
    centre: Centre, settings: Settings, services: Services
) -> None:
    publish(centre, CENTRAL_WATER)
    services.syncer.run()  # type: ignore[union-attr]
    centre.stop()
    restarted = services_for(settings)  # a new process, offline
    try:
        client = TwilioClient(create_app(services=restarted).test_client(),
                              settings.twilio_auth_token)
        reply = client.sms("+254711000001", "TAP").reply  # the centre's keyword
        assert "What should the county fix first?" in reply
        assert {c.id for c in restarted.catalog.current().consultations} == {"water-test"}
        report = restarted.syncer.run()  # type: ignore[union-attr]
        assert report.outcome == "failed"
        assert {c.id for c in restarted.catalog.current().consultations} == {"water-test"}
    finally:
        restarted.store.engine.dispose()


def test_definitions_that_do_not_validate_here_are_not_cached(
    centre: Centre, services: Services
) -> None:
    publish(centre, CENTRAL_WATER)
    services.syncer.run()  # type: ignore[union-attr]
    with centre.store.engine.begin() as conn:  # a centre running a laxer version
        conn.execute(update(central_schema.consultations).values(
            version=9, definition=WATER.replace("type: scale", "type: slider")))
    report = services.syncer.run()  # type: ignore[union-attr]
    assert report.consultations == "refused"
    sync_state = SyncStateStore(services.store.engine)
    assert "questions[2].type" in sync_state.state()[catalog.CATALOG_ERROR]
    _, cached = sync_state.cached_consultations()
    assert [(c.id, c.version) for c in cached] == [("water-test", 1)]


def test_no_flows_dir_and_nothing_cached_is_an_empty_catalog(
    centre: Centre, database_url: str, tmp_path: Path
) -> None:
    settings = gateway_settings(database_url, centre, "gw-empty",
                                flows_dir=tmp_path / "missing")
    services = services_for(settings)
    try:
        assert services.catalog.current().consultations == ()
        publish(centre, WATER)
        services.syncer.run()  # type: ignore[union-attr]
        fresh = CentralCatalog(SyncStateStore(services.store.engine), settings.flows_dir)
        assert [c.id for c in fresh.current().consultations] == ["water-test"]
    finally:
        services.store.engine.dispose()
