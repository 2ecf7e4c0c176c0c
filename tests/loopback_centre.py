"""A central store served on loopback that can go down and come back on the same port,
gateways pointed at it, and participants taking part through them: the `centre` and
`remote_gateway` fixtures (loaded for every test by tests/conftest.py) and their helpers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gateway.app import build_services, create_app
from gateway.application.catalog_source import StaticCatalog
from gateway.application.services import Services
from gateway.central.app import create_central_app
from gateway.central.store import schema as central_schema
from gateway.central.store.central_store import CentralStore
from gateway.consultation.catalogue import load_catalog
from gateway.settings import Settings
from gateway.store import schema
from gateway.store.outbox import OutboxStore
from gateway.store.sync_state import SyncStateStore
from gateway.sync.trigger import SyncTrigger
from tests.conftest import FIXTURE_FLOWS, TEST_TOKEN, RecordingTrigger
from tests.live import LiveServer, free_port, publish_fixture_flows
from tests.twilio_signing import TwilioClient


@dataclass
class Centre:
    """The central store service; `stop()` and `start()` simulate an outage."""

    store: CentralStore
    settings: Settings
    port: int = field(default_factory=free_port)
    server: LiveServer | None = None
    wrap: object = None  # optional WSGI middleware factory: wrap(app) -> app

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        app = create_central_app(self.settings, self.store)
        wsgi = self.wrap(app) if callable(self.wrap) else app
        self.server = LiveServer(wsgi, port=self.port)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def token(self, gateway: str) -> str:
        return self.store.add_gateway(gateway, datetime.now(UTC), replace=True)

    def total(self) -> int:
        with self.store.engine.connect() as conn:
            return conn.execute(
                select(func.count()).select_from(central_schema.events)
            ).scalar_one()

    def tally(self) -> Counter[tuple[str, str, str | None]]:
        """Count of events per (consultation, question, value): what officials see."""
        e = central_schema.events.c
        with self.store.engine.connect() as conn:
            rows = conn.execute(
                select(e.consultation_id, e.question_id, e.value, func.count())
                .group_by(e.consultation_id, e.question_id, e.value)
            ).all()
        return Counter({(r[0], r[1], r[2]): r[3] for r in rows})

    def per_gateway(self) -> dict[str, int]:
        e = central_schema.events.c
        with self.store.engine.connect() as conn:
            rows = conn.execute(select(e.gateway, func.count()).group_by(e.gateway)).all()
        return {r[0]: r[1] for r in rows}


def open_centre(url: str, *, published: bool) -> Centre:
    settings = Settings(central_database_url=url)
    store = CentralStore.from_url(url)
    store.create_schema()
    if published:  # the consultations the gateways serve (FIXTURE_FLOWS)
        publish_fixture_flows(store)
    return Centre(store, settings)


@pytest.fixture
def centre(central_database_url: str) -> Iterator[Centre]:
    """A centre with the fixture consultations published, serving on loopback."""
    centre = open_centre(central_database_url, published=True)
    store = centre.store
    centre.start()
    yield centre
    centre.stop()
    store.engine.dispose()


@dataclass
class Gateway:
    services: Services
    client: TwilioClient

    @property
    def outbox(self) -> OutboxStore:
        return OutboxStore(self.services.store.engine)

    @property
    def sync_state(self) -> SyncStateStore:
        return SyncStateStore(self.services.store.engine)

    def local_tally(self) -> Counter[tuple[str, str, str | None]]:
        e = schema.events.c
        with self.services.store.engine.connect() as conn:
            rows = conn.execute(select(e.consultation_id, e.question_id, e.value)).all()
        return Counter((r[0], r[1], r[2]) for r in rows)

    def unsynced(self) -> int:
        e = schema.events.c
        with self.services.store.engine.connect() as conn:
            return conn.execute(
                select(func.count()).select_from(schema.events).where(e.synced_at.is_(None))
            ).scalar_one()

    def close(self) -> None:
        self.services.store.engine.dispose()


def gateway_settings(database_url: str, centre: Centre | None, name: str,
                     **overrides: object) -> Settings:
    values: dict[str, object] = {
        "twilio_auth_token": TEST_TOKEN,
        "database_url": database_url,
        "flows_dir": FIXTURE_FLOWS,
        "pseudonym_key": "test-pseudonym-key-0123456789",
        "gateway_id": name,
        "sqlite_synchronous": "NORMAL",  # these tests are about the network, not power loss
    }
    if centre is not None:
        values.update(central_url=centre.url, central_token=centre.token(name))
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def make_gateway(settings: Settings, trigger: SyncTrigger | None = None) -> Gateway:
    services = build_services(
        settings,
        catalog=StaticCatalog(load_catalog([settings.flows_dir])),
        trigger=trigger or RecordingTrigger(),
    )
    app = create_app(services=services)
    return Gateway(services, TwilioClient(app.test_client(), settings.twilio_auth_token))


@pytest.fixture
def remote_gateway(database_url: str, centre: Centre) -> Iterator[Gateway]:
    gateway = make_gateway(gateway_settings(database_url, centre, "gw-a"))
    yield gateway
    gateway.close()


# --- participants ------------------------------------------------------------------------------

PRIORITIES = ["water", "roads", "clinics", "schools"]
AGE_BANDS = ["under_18", "18_34", "35_59", "60_plus"]


def take_part(client: TwilioClient, n: int) -> Counter[tuple[str, str, str | None]]:
    """Participant n answers the five water-test questions by SMS; returns the answers
    the gateway accepted, as (consultation, question, value)."""
    number = f"+2547{n:08d}"
    priority = n % 4
    enough = "yes" if n % 3 else "no"
    satisfaction = n % 5 + 1
    comment = f"Borehole {n % 7} is dry"
    age = n % 4
    replies = [
        client.sms(number, "WATER").reply,
        client.sms(number, str(priority + 1)).reply,
        client.sms(number, enough).reply,
        client.sms(number, str(satisfaction)).reply,
        client.sms(number, comment).reply,
        client.sms(number, str(age + 1)).reply,
    ]
    assert "What should the county fix first?" in replies[0]
    assert replies[-1] == "Thank you for your voice."
    return Counter(
        ("water-test", question, value)
        for question, value in [
            ("priority", PRIORITIES[priority]),
            ("enough", enough),
            ("satisfaction", str(satisfaction)),
            ("comment", comment),
            ("age_band", AGE_BANDS[age]),
        ]
    )


def flows_dir_copy(tmp_path: Path) -> Path:
    target = tmp_path / "flows"
    target.mkdir()
    for file in FIXTURE_FLOWS.iterdir():
        if file.is_file():  # not unseen-language/, a catalogue of its own
            (target / file.name).write_text(file.read_text())
    return target
