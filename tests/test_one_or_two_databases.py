"""The gateway's store and the centre's in one database (DATABASE_URL and
CENTRAL_DATABASE_URL the same: one SQLite file, one PostgreSQL schema) or in two: both
stores make their tables, whichever starts first, and an answer is stored, synced and
counted, with the centre in the gateway's process and as a service of its own."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select

from gateway.app import build_services, create_app
from gateway.central.store import schema as central_schema
from gateway.central.store.central_store import CentralStore
from gateway.central.store.tallies import TallyStore
from gateway.database import make_engine
from gateway.settings import Settings
from gateway.store import schema as gateway_schema
from gateway.store.participants import LocalStore
from tests.conftest import TEST_TOKEN, RecordingTrigger, postgres_schema
from tests.loopback_centre import (
    flows_dir_copy,
    gateway_settings,
    make_gateway,
    open_centre,
    take_part,
)
from tests.twilio_signing import TwilioClient

LAYOUTS = [
    "sqlite-one-file", "sqlite-two-files", "postgresql-one-schema", "postgresql-two-schemas",
]


@dataclass(frozen=True)
class Databases:
    gateway: str  # DATABASE_URL
    centre: str  # CENTRAL_DATABASE_URL

    @property
    def shared(self) -> bool:
        return self.gateway == self.centre


@pytest.fixture(params=LAYOUTS)
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Databases]:
    kind, layout = request.param.split("-", 1)
    one = layout.startswith("one")
    if kind == "sqlite":
        gateway = f"sqlite:///{tmp_path / 'civicline.db'}"
        yield Databases(gateway, gateway if one else f"sqlite:///{tmp_path / 'central.db'}")
        return
    url = os.environ.get("DATABASE_URL_TEST")
    if not url:
        pytest.skip("DATABASE_URL_TEST not set")
    with postgres_schema(url) as gateway:
        if one:
            yield Databases(gateway, gateway)
            return
        with postgres_schema(url) as centre:
            yield Databases(gateway, centre)


def test_the_two_stores_name_no_table_alike() -> None:
    tables = set(gateway_schema.metadata.tables) & set(central_schema.metadata.tables)
    indexes = {i.name for t in gateway_schema.metadata.tables.values() for i in t.indexes} & {
        i.name for t in central_schema.metadata.tables.values() for i in t.indexes
    }
    assert (tables, indexes) == (set(), set())


@pytest.mark.parametrize("first", ["gateway", "centre"])
def test_both_stores_create_their_tables(databases: Databases, first: str) -> None:
    local = LocalStore(make_engine(databases.gateway))
    central = CentralStore.from_url(databases.centre)
    try:
        order = [local.create_schema, central.create_schema]
        for create in order if first == "gateway" else order[::-1]:
            create()
        local.create_schema()  # a restart changes nothing
        central.create_schema()
        for store, metadata in ((local, gateway_schema.metadata),
                                (central, central_schema.metadata)):
            found = inspect(store.engine)
            for table in metadata.sorted_tables:  # each as its store defines it
                columns = [c["name"] for c in found.get_columns(table.name)]
                assert columns == [c.name for c in table.columns], table.name
        gateway_tables = set(inspect(local.engine).get_table_names())
        central_tables = set(inspect(central.engine).get_table_names())
        assert (gateway_tables == central_tables) is databases.shared
    finally:
        local.engine.dispose()
        central.engine.dispose()


def counted(engine_url: str) -> tuple[dict[tuple[str, str | None], int], int]:
    """What officials would see of water-test: answers per (question, value), and the
    number of participants."""
    engine = make_engine(engine_url)
    try:
        tallies = TallyStore(engine)
        answers = {
            (c.question_id, c.value): c.count
            for c in tallies.tally_counts("water-test", ["comment"])
            if c.status == "answered"
        }
        return answers, tallies.activity("water-test")["water-test"].participants
    finally:
        engine.dispose()


def gateway_rows(url: str) -> tuple[int, int]:
    """The gateway's own participants and events, synced or not."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            people = conn.execute(
                select(func.count()).select_from(gateway_schema.participants)
            ).scalar_one()
            events = conn.execute(
                select(func.count()).select_from(gateway_schema.events)
                .where(gateway_schema.events.c.synced_at.is_not(None))
            ).scalar_one()
        return people, events
    finally:
        engine.dispose()


EXPECTED = {  # participant 1's answers (tests/sync/conftest.py take_part), the text apart
    ("priority", "roads"): 1,
    ("enough", "yes"): 1,
    ("satisfaction", "2"): 1,
    ("comment", None): 1,
    ("age_band", "18_34"): 1,
}


def test_an_answer_reaches_the_embedded_centre_and_is_counted(
    databases: Databases, tmp_path: Path
) -> None:
    """No CENTRAL_URL: the centre runs in the gateway's process."""
    settings = Settings(
        twilio_auth_token=TEST_TOKEN,
        database_url=databases.gateway,
        central_database_url=databases.centre,
        flows_dir=flows_dir_copy(tmp_path),
        pseudonym_key="test-pseudonym-key-0123456789",
        sqlite_synchronous="NORMAL",
    )
    services = build_services(settings, trigger=RecordingTrigger())
    try:
        client = TwilioClient(create_app(services=services).test_client(), TEST_TOKEN)
        assert sum(take_part(client, 1).values()) == 5
        report = services.syncer.run(force=True)  # type: ignore[union-attr]
        assert (report.outcome, report.sent, report.new) == ("synced", 5, 5)
    finally:
        services.store.engine.dispose()
        services.central.close()  # type: ignore[union-attr]
    assert counted(databases.centre) == (EXPECTED, 1)
    assert gateway_rows(databases.gateway) == (1, 5)


def test_an_answer_reaches_a_centre_over_http_and_is_counted(databases: Databases) -> None:
    """CENTRAL_URL set: the centre is a service of its own, on the same database or not."""
    centre = open_centre(databases.centre, published=True)
    centre.start()
    gateway = make_gateway(gateway_settings(databases.gateway, centre, "gw-a"))
    try:
        gateway.services.store.create_schema()  # as the worker does at every start
        assert sum(take_part(gateway.client, 1).values()) == 5
        report = gateway.services.syncer.run(force=True)  # type: ignore[union-attr]
        assert (report.outcome, report.sent, report.new) == ("synced", 5, 5)
        assert centre.per_gateway() == {"gw-a": 5}
    finally:
        gateway.close()
        centre.stop()
        centre.store.engine.dispose()
    assert counted(databases.centre) == (EXPECTED, 1)
    assert gateway_rows(databases.gateway) == (1, 5)
