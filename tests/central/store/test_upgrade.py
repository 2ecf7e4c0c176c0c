"""A central database from before the tables were named `central_...` (schema.py's
tables under their previous names, as they were made until then) is renamed at start-up
and keeps its events, tallies, gateways, officials and sessions: on SQLite and
PostgreSQL, whether the centre, the officials' commands or the accounts open it first."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, Index, MetaData, Table, insert, inspect, select

from gateway.central.store import schema
from gateway.central.store.accounts import Accounts
from gateway.central.store.central_store import CentralStore
from gateway.central.store.tallies import TallyStore
from gateway.central.store.upgrade import PREVIOUS_INDEX_NAMES, PREVIOUS_TABLE_NAMES
from gateway.central.validation import Batch
from gateway.cli import cli
from gateway.database import make_engine
from gateway.store import schema as gateway_schema
from gateway.store.participants import LocalStore
from tests.central.officials.population import generate, survey

NOW = datetime(2026, 6, 1, tzinfo=UTC)
PASSWORD = "a long password"
EVENT_FIELDS = (
    "event_id", "consultation_id", "question_id", "pseudonym", "channel", "status", "value",
    "raw", "language", "answered_at", "region",
)  # fmt: skip


def previous_metadata() -> MetaData:
    """The central tables as they were made before the prefix: the same columns and
    keys, the previous table and index names."""
    old = MetaData()
    for table in previous_tables():
        copy = table.to_metadata(old, name=PREVIOUS_TABLE_NAMES[table.name])
        copy.indexes.clear()
        for index in table.indexes:
            previous = Index(
                PREVIOUS_INDEX_NAMES[str(index.name)], *(copy.c[c.name] for c in index.columns)
            )
            if previous.name == "ix_final_states_values":  # as schema.py has it
                previous.ddl_if(dialect="sqlite")
    return old


def previous_tables() -> list[Table]:
    """The tables made before the prefix (not those added since, such as outreach's)."""
    return [t for t in schema.metadata.sorted_tables if t.name in PREVIOUS_TABLE_NAMES]


def stored_columns(table: Table) -> list[str]:
    """Its columns but a counter the database assigns."""
    return [c.name for c in table.columns if c.autoincrement is not True]


def rows(engine: Engine, table: Table) -> list[tuple]:
    with engine.connect() as conn:
        found = conn.execute(select(*(table.c[name] for name in stored_columns(table))))
        return sorted(tuple(row) for row in found)


def shape(engine: Engine, table: str) -> dict[str, object]:
    """What the database says of a table: columns (with defaults, which name the id
    sequences on PostgreSQL), keys and indexes, by name."""
    found = inspect(engine)
    return {
        "columns": [(c["name"], str(c["type"]), c["nullable"], c.get("default"))
                    for c in found.get_columns(table)],
        "primary key": found.get_pk_constraint(table),
        "unique": sorted(
            (u["name"], u["column_names"]) for u in found.get_unique_constraints(table)
        ),
        "indexes": sorted((i["name"], i["column_names"]) for i in found.get_indexes(table)),
    }


@pytest.fixture
def population() -> list[dict[str, Any]]:
    consultation, _definition = survey()
    return [{k: row[k] for k in EVENT_FIELDS} for row in generate(consultation, 60, seed=11)]


@dataclass
class InUse:
    store: CentralStore
    token: str  # gateway gw-1's
    session: str  # official ada's


@pytest.fixture
def reference(database_url: str, population: list[dict[str, Any]]) -> Iterator[InUse]:
    """A centre of today, in use: a published consultation, a gateway and its events,
    a failed token, an official signed in (and a wrong password), an export asked for."""
    store = CentralStore.from_url(database_url)
    store.create_schema()
    store.publish(survey()[1], "survey.yaml", NOW)
    token = store.add_gateway("gw-1", NOW)
    for start in range(0, len(population), 100):
        store.receive("gw-1", Batch(events=population[start:start + 100], backlog=0), NOW)
    store.record_token_failure("203.0.113.7", NOW)
    accounts = Accounts(store.engine)
    accounts.add("ada", PASSWORD, admin=False, now=NOW)
    session = accounts.start_session(accounts.sign_in("ada", PASSWORD, NOW), NOW)
    accounts.sign_in("ada", "a wrong password", NOW)
    with store.engine.begin() as conn:
        conn.execute(insert(schema.export_jobs).values(
            id="0" * 32, consultation_id="survey-test", kind="responses", format="csv",
            requested_by="ada", requested_at=NOW, status="done", rows_done=1, updated_at=NOW,
        ))
    yield InUse(store, token, session)
    store.engine.dispose()


@pytest.fixture
def previous(central_database_url: str, reference: InUse) -> str:
    """A database made before the prefix, holding what the reference holds."""
    store = reference.store
    old = previous_metadata()
    engine = make_engine(central_database_url)
    try:
        old.create_all(engine)
        with store.engine.connect() as source, engine.begin() as target:
            for table in previous_tables():
                columns = stored_columns(table)
                found = [dict(r._mapping) for r in source.execute(
                    select(*(table.c[name] for name in columns)))]
                if found:
                    target.execute(insert(old.tables[PREVIOUS_TABLE_NAMES[table.name]]), found)
        assert set(inspect(engine).get_table_names()) == set(PREVIOUS_TABLE_NAMES.values())
    finally:
        engine.dispose()
    return central_database_url


def export_tallies(url: str) -> dict[str, Any]:
    result = CliRunner().invoke(
        cli, ["export", "tallies", "survey-test", "--format", "json"],
        env={"CENTRAL_DATABASE_URL": url, "SMALL_CELL_K": "5"},
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document.pop("generated_at")
    return document


def test_the_centre_renames_the_tables_and_keeps_every_row(
    previous: str, reference: InUse, database_url: str
) -> None:
    store = CentralStore.from_url(previous)
    try:
        store.create_schema()
        names = set(inspect(store.engine).get_table_names())
        assert names == set(schema.metadata.tables)
        for table in schema.metadata.sorted_tables:
            assert rows(store.engine, table) == rows(reference.store.engine, table), table.name
            assert shape(store.engine, table.name) == shape(
                reference.store.engine, table.name), table.name
        store.create_schema()  # the next start changes nothing
        assert set(inspect(store.engine).get_table_names()) == names
    finally:
        store.engine.dispose()
    assert export_tallies(previous) == export_tallies(database_url)


def test_an_upgraded_centre_keeps_counting(
    previous: str, reference: InUse, population: list[dict[str, Any]]
) -> None:
    store = CentralStore.from_url(previous)
    try:
        store.create_schema()
        assert store.authenticate(reference.token) == "gw-1"
        accounts = Accounts(store.engine)
        official = accounts.session_official(reference.session, NOW)
        assert official is not None and official.username == "ada"
        store.record_token_failure("203.0.113.7", NOW)  # ids go on from the old table's
        assert accounts.sign_in("ada", PASSWORD, NOW).official is not None

        changed = {**population[0], "event_id": str(uuid.uuid4()), "answered_at": NOW,
                   "status": "skipped", "value": None}  # a participant's later skip
        batch = Batch(events=[changed, population[1]], backlog=0)
        for centre in (store, reference.store):
            receipt = centre.receive("gw-1", batch, NOW)
            assert (receipt.new, receipt.known) == (1, 1)
        upgraded, fresh = TallyStore(store.engine), TallyStore(reference.store.engine)
        assert sorted(upgraded.tally_counts("survey-test", ["comment"]), key=repr) == sorted(
            fresh.tally_counts("survey-test", ["comment"]), key=repr)
        assert upgraded.activity() == fresh.activity()
    finally:
        store.engine.dispose()


def test_the_officials_commands_open_and_upgrade_it(previous: str, database_url: str) -> None:
    engine = make_engine(previous)
    try:
        assert TallyStore(engine).has_tables()  # a central store, under its old names
    finally:
        engine.dispose()
    assert export_tallies(previous) == export_tallies(database_url)
    engine = make_engine(previous)
    try:
        assert set(inspect(engine).get_table_names()) == set(schema.metadata.tables)
    finally:
        engine.dispose()


def test_the_accounts_rename_their_own_tables(previous: str) -> None:
    """`civicline officials add` on a centre that has not started since the upgrade."""
    engine = make_engine(previous)
    try:
        accounts = Accounts(engine)
        accounts.create_tables()
        mine = {schema.officials.name, schema.official_sessions.name,
                schema.signin_failures.name}
        names = set(inspect(engine).get_table_names())
        assert mine <= names
        assert {PREVIOUS_TABLE_NAMES[name] for name in mine}.isdisjoint(names)
        assert schema.events.name not in names and "events" in names
        assert accounts.sign_in("ada", PASSWORD, NOW).official is not None
        CentralStore(engine).create_schema()
        assert set(inspect(engine).get_table_names()) == set(schema.metadata.tables)
    finally:
        engine.dispose()


def test_a_gateways_tables_of_the_previous_names_are_left_alone(
    central_database_url: str,
) -> None:
    """The gateway's `events` and `participants` in the same database are not the
    centre's tables of before: the centre makes its own beside them."""
    engine = make_engine(central_database_url)
    try:
        LocalStore(engine).create_schema()
        assert not TallyStore(engine).has_tables()
        CentralStore(engine).create_schema()
        for table in (gateway_schema.events, gateway_schema.participants):
            columns = [c["name"] for c in inspect(engine).get_columns(table.name)]
            assert columns == [c.name for c in table.columns]
        assert set(schema.metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
