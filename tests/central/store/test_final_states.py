"""Final states and participants, kept as events arrive: the same whatever the order of
arrival, the batching, repeated deliveries or concurrent batches, and the same as
computed afresh from the events (the upgrade path)."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert, inspect, select

from gateway.central.store import final_states
from gateway.central.store.central_store import CentralStore
from gateway.central.store.schema import events, metadata, participants
from gateway.central.store.schema import final_states as final_states_table
from gateway.central.validation import Batch
from tests.central.officials.population import generate, survey

NOW = datetime(2026, 6, 1, tzinfo=UTC)
EVENT_FIELDS = (
    "event_id", "consultation_id", "question_id", "pseudonym", "channel", "status", "value",
    "raw", "language", "answered_at", "region",
)  # fmt: skip


@pytest.fixture(scope="module")
def population() -> list[dict[str, Any]]:
    """Events as a gateway sends them: 150 participants, with changed answers (some at
    the very same second), both channels, skips and unreadable replies."""
    consultation, _definition = survey()
    return [{k: row[k] for k in EVENT_FIELDS} for row in generate(consultation, 150, seed=7)]


def expected(rows: list[dict[str, Any]]) -> tuple[dict, dict]:
    """The two tables recomputed in plain Python from the rule."""
    states: dict[tuple, dict[str, Any]] = {}
    answered: dict[tuple, int] = {}
    people: dict[tuple, tuple[int, int]] = {}
    for row in rows:
        key = (row["consultation_id"], row["question_id"], row["pseudonym"])
        held = states.get(key)
        if held is None or (row["answered_at"], row["event_id"]) > (
            held["answered_at"], held["event_id"]
        ):
            states[key] = row
        answered[key] = answered.get(key, 0) | (row["status"] == "answered")
        person = (row["consultation_id"], row["pseudonym"])
        sms, voice = people.get(person, (0, 0))
        people[person] = (sms | (row["channel"] == "sms"), voice | (row["channel"] == "voice"))
    final = {
        key: (row["event_id"], row["status"], row["value"], row["channel"], row["region"],
              int(answered[key]))
        for key, row in states.items()
    }  # fmt: skip
    return final, {person: (int(s), int(v)) for person, (s, v) in people.items()}


def stored(store: CentralStore) -> tuple[dict, dict]:
    p = participants.c
    with store.engine.connect() as conn:
        final = {
            (r.consultation_id, r.question_id, r.pseudonym): (
                r.event_id, r.status, r.value, r.channel, r.region, r.answered_ever
            )
            for r in conn.execute(select(final_states_table))
        }
        people = {
            (r.consultation_id, r.pseudonym): (r.by_sms, r.by_voice)
            for r in conn.execute(select(p.consultation_id, p.pseudonym, p.by_sms, p.by_voice))
        }
    return final, people


def deliver(store: CentralStore, rows: list[dict[str, Any]], rnd: random.Random) -> None:
    """`rows` in random batches of 1 to 60, a third of the batches delivered twice."""
    start = 0
    while start < len(rows):
        size = rnd.randint(1, 60)
        batch = Batch(events=[dict(r) for r in rows[start : start + size]], backlog=0)
        store.receive("gw-1", batch, NOW)
        if rnd.random() < 0.33:
            assert store.receive("gw-1", batch, NOW).new == 0
        start += size


def test_any_order_and_batching_gives_the_same_final_states(
    store: CentralStore, population: list[dict[str, Any]]
) -> None:
    want = expected(population)
    assert any(state[5] == 1 and state[1] != "answered" for state in want[0].values()), (
        "the population should hold an answer later replaced by a skip or unreadable reply"
    )
    rnd = random.Random(3)
    rows = list(population)
    rnd.shuffle(rows)
    deliver(store, rows, rnd)
    assert stored(store) == want


def test_newest_first_arrival_keeps_the_newest_state(
    store: CentralStore, population: list[dict[str, Any]]
) -> None:
    rows = sorted(population, key=lambda r: (r["answered_at"], r["event_id"]), reverse=True)
    deliver(store, rows, random.Random(4))
    assert stored(store) == expected(population)


def test_rebuild_from_events_matches_what_arrival_kept(
    store: CentralStore, population: list[dict[str, Any]]
) -> None:
    deliver(store, population, random.Random(5))
    kept = stored(store)
    with store.engine.begin() as conn:
        final_states.rebuild(conn)
    assert stored(store) == kept == expected(population)


def test_a_store_upgraded_from_before_final_states_computes_them(
    central_database_url: str, population: list[dict[str, Any]]
) -> None:
    store = CentralStore.from_url(central_database_url)
    try:
        older = [t for t in metadata.sorted_tables if t not in (final_states_table, participants)]
        metadata.create_all(store.engine, tables=older)
        with store.engine.begin() as conn:
            conn.execute(
                insert(events),
                [{**r, "gateway": "gw-1", "received_at": NOW} for r in population[:400]],
            )
        store.create_schema()
        assert inspect(store.engine).has_table("central_final_states")
        assert stored(store) == expected(population[:400])
        # From then on they are kept as events arrive; a second upgrade changes nothing.
        deliver(store, population[400:], random.Random(6))
        store.create_schema()
        assert stored(store) == expected(population)
    finally:
        store.engine.dispose()


def test_concurrent_batches_for_the_same_participants(
    store: CentralStore, population: list[dict[str, Any]]
) -> None:
    """Two gateways' batches touching the same participants at once: nothing lost."""
    rows = list(population)
    random.Random(8).shuffle(rows)
    halves = [rows[0::2], rows[1::2]]
    failures: list[BaseException] = []

    def send(part: list[dict[str, Any]], seed: int) -> None:
        try:
            deliver(store, part, random.Random(seed))
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=send, args=(half, n)) for n, half in enumerate(halves)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures
    assert stored(store) == expected(population)
