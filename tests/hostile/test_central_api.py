"""Anything a gateway (or whoever holds its token) posts to `POST /api/v1/events` gets a
clear answer: 200 with counts (and the events refused one by one, never stored), 400 with
one reason per problem, 413 or 415. Never a 500, never part of a malformed batch stored,
never a body read past its limit.

Properties run 1,000 examples each on SQLite and 200 on PostgreSQL when
DATABASE_URL_TEST is set (PostgreSQL refuses NUL characters and out-of-range integers
that SQLite would take).
"""

from __future__ import annotations

import gzip
import io
import json
import os
import tracemalloc
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from gateway.central.api import MAX_BODY_BYTES
from gateway.central.app import create_central_app
from gateway.central.store import schema
from gateway.central.store.central_store import CentralStore
from gateway.central.validation import MAX_BATCH_EVENTS
from gateway.settings import Settings
from tests.conftest import postgres_schema
from tests.live import make_event, publish_fixture_flows

EXAMPLES = settings(max_examples=1000, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
PG_EXAMPLES = settings(max_examples=200, deadline=None,
                       suppress_health_check=[HealthCheck.too_slow,
                                              HealthCheck.data_too_large])
FIELDS = ["event_id", "consultation_id", "question_id", "pseudonym", "channel", "status",
          "value", "raw", "language", "answered_at", "region"]


@dataclass
class Centre:
    app: Flask
    store: CentralStore
    token: str

    @property
    def client(self) -> FlaskClient:
        return self.app.test_client()

    def post(self, body: bytes, **headers: str) -> Any:
        return self.client.post("/api/v1/events", data=body, headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": "application/json",
            **headers})

    def count(self) -> int:
        with self.store.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(schema.events)).scalar_one()

    def stored(self, event_ids: list[str]) -> set[str]:
        return self.store.known_events(event_ids)


def _centre(url: str) -> Centre:
    store = CentralStore.from_url(url, synchronous="NORMAL")
    store.create_schema()
    token = store.add_gateway("gw-hostile", datetime.now(UTC))
    publish_fixture_flows(store)
    return Centre(create_central_app(Settings(central_database_url=url), store), store, token)


@pytest.fixture(scope="module")
def sqlite_centre(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Centre]:
    tmp = tmp_path_factory.mktemp("hostile-central")
    centre = _centre(f"sqlite:///{tmp / 'central.db'}")
    yield centre
    centre.store.engine.dispose()


@pytest.fixture(scope="module")
def pg_centre() -> Iterator[Centre]:
    url = os.environ.get("DATABASE_URL_TEST")
    if not url:
        pytest.skip("DATABASE_URL_TEST not set")
    with postgres_schema(url) as schema_url:
        centre = _centre(schema_url)
        yield centre
        centre.store.engine.dispose()


# --- strategies -----------------------------------------------------------------------------

any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=80)
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**80), 2**80),
    st.floats(allow_nan=False, allow_infinity=False), any_text,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(any_text, inner, max_size=4)),
    max_leaves=20,
)
hostile_values = st.one_of(
    json_values,
    st.sampled_from([
        "x" * 5000, "a\x00b", "", " ", "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00", "2026-06-01T09:00:00", "2026-13-01T00:00:00+00:00",
        "not-a-uuid", str(uuid.uuid4()).upper(), "{" + str(uuid.uuid4()) + "}",
        "WATER-TEST", "q" * 65, "e" * 64, "é" * 64, 2**63, -1, 1e308, [], {},
    ]),
)


def valid_events(n: int) -> list[dict[str, Any]]:
    return [make_event(i) for i in range(n)]


batches = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"events": st.one_of(json_values, st.lists(st.one_of(
            json_values, st.integers(0, 3).map(lambda n: make_event(n))), max_size=4))},
        optional={"backlog": st.one_of(json_values, st.just(2**40)),
                  "quarantined": json_values},
    ),
)


def check_refusal(response: Any) -> dict[str, Any]:
    """A refusal is JSON naming its class and, for 400, every problem with a reason."""
    data = response.get_json()
    assert isinstance(data, dict) and data["error"] and data["detail"], response.data
    if response.status_code == 400:
        assert data["problems"], data
        for problem in data["problems"]:
            assert set(problem) == {"index", "field", "reason"}
            assert isinstance(problem["reason"], str) and problem["reason"]
    return data


def check_receipt(centre: Centre, data: dict[str, Any], sent: int) -> None:
    """Every event sent is new, known or refused with a reason; none refused is stored."""
    refused = data["refused"]
    assert data["new"] + data["known"] + len(refused) == sent, data
    for item in refused:
        assert set(item) == {"index", "event_id", "reason"}
        assert isinstance(item["reason"], str) and item["reason"]
    assert not centre.stored([item["event_id"] for item in refused])


def post_and_check(centre: Centre, payload: object) -> None:
    before = centre.count()
    response = centre.post(json.dumps(payload).encode())
    assert response.status_code in (200, 400, 413), response.data
    if response.status_code == 200:
        data = response.get_json()
        sent = len(payload["events"])  # type: ignore[index]
        check_receipt(centre, data, sent)
        assert centre.count() == before + data["new"]
    else:
        check_refusal(response)
        assert centre.count() == before  # nothing of a refused batch is stored


# --- properties ---------------------------------------------------------------------------


@EXAMPLES
@given(payload=batches)
def test_arbitrary_json_bodies(sqlite_centre: Centre, payload: object) -> None:
    post_and_check(sqlite_centre, payload)


@PG_EXAMPLES
@given(payload=batches)
def test_arbitrary_json_bodies_postgresql(pg_centre: Centre, payload: object) -> None:
    post_and_check(pg_centre, payload)


def one_bad_field(centre: Centre, size: int, index: int, field: str, value: object,
                  drop: bool) -> None:
    events = [make_event(i, event_id=str(uuid.uuid4())) for i in range(size)]
    index %= size
    if drop:
        del events[index][field]
    else:
        events[index][field] = value
    before = centre.count()
    response = centre.post(json.dumps({"events": events, "backlog": 0,
                                       "per_event_refusals": True}).encode())
    assert response.status_code in (200, 400), response.data
    if response.status_code == 200:  # the "bad" value was well-formed: accepted (an event
        data = response.get_json()  # id sent before is known, not stored again) or refused
        check_receipt(centre, data, size)  # for what it says, alone
        assert data["known"] <= 1 and {r["index"] for r in data["refused"]} <= {index}, data
        assert centre.count() == before + data["new"]
        return
    data = check_refusal(response)
    assert {(p["index"], p["field"]) for p in data["problems"]} == {(index, field)}, data
    assert centre.count() == before  # all or nothing


@EXAMPLES
@given(size=st.integers(1, 6), index=st.integers(0, 5), field=st.sampled_from(FIELDS),
       value=hostile_values, drop=st.booleans())
def test_one_bad_field_refuses_the_whole_batch_and_names_it(
    sqlite_centre: Centre, size: int, index: int, field: str, value: object, drop: bool
) -> None:
    one_bad_field(sqlite_centre, size, index, field, value, drop)


@PG_EXAMPLES
@given(size=st.integers(1, 6), index=st.integers(0, 5), field=st.sampled_from(FIELDS),
       value=hostile_values, drop=st.booleans())
def test_one_bad_field_refuses_the_whole_batch_and_names_it_postgresql(
    pg_centre: Centre, size: int, index: int, field: str, value: object, drop: bool
) -> None:
    one_bad_field(pg_centre, size, index, field, value, drop)


@EXAMPLES
@given(body=st.binary(max_size=300), gzipped=st.booleans(),
       encoding=st.sampled_from(["", "gzip", "identity", "br", "GZIP ", "x-gzip"]))
def test_arbitrary_bytes(sqlite_centre: Centre, body: bytes, gzipped: bool,
                         encoding: str) -> None:
    before = sqlite_centre.count()
    data = gzip.compress(body) if gzipped else body
    headers = {"Content-Encoding": encoding} if encoding else {}
    response = sqlite_centre.post(data, **headers)
    assert response.status_code in (200, 400, 413, 415), response.data
    if response.status_code != 200:
        check_refusal(response)
        assert sqlite_centre.count() == before


# --- the corners, each with its answer -----------------------------------------------------


def test_json_nested_too_deeply_is_400(sqlite_centre: Centre) -> None:
    response = sqlite_centre.post(b"[" * 100_000 + b"]" * 100_000)
    assert response.status_code == 400
    assert check_refusal(response)["detail"] == "body is JSON nested too deeply"


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("answered_at", "0001-01-01T00:00:00+01:00", "out of range in UTC"),
        ("answered_at", "9999-12-31T23:59:59-01:00", "out of range in UTC"),
        ("value", "tap\x00water", "NUL character"),
        ("region", "\x00", "NUL character"),
        ("raw", "x" * 4097, "longer than 4096 characters"),
    ],
)
def test_values_a_database_cannot_hold_are_400(sqlite_centre: Centre, field: str,
                                               value: str, reason: str) -> None:
    before = sqlite_centre.count()
    events = valid_events(3)
    events[1][field] = value
    response = sqlite_centre.post(json.dumps({"events": events}).encode())
    problems = check_refusal(response)["problems"]
    assert response.status_code == 400
    assert [(p["index"], p["field"]) for p in problems] == [(1, field)]
    assert reason in problems[0]["reason"]
    assert sqlite_centre.count() == before


@pytest.mark.parametrize("name", ["backlog", "quarantined"])
@pytest.mark.parametrize("value", [2**31, 10**30, -1, 1.5, "3", True])
def test_counts_out_of_range_are_400(sqlite_centre: Centre, name: str, value: object) -> None:
    response = sqlite_centre.post(json.dumps({"events": [], name: value}).encode())
    assert response.status_code == 400
    [problem] = check_refusal(response)["problems"]
    assert (problem["index"], problem["field"]) == (None, name)
    assert "whole number from 0 to 2147483647" in problem["reason"]


def test_too_many_events_is_413_before_any_is_checked(sqlite_centre: Centre) -> None:
    body = json.dumps({"events": [{}] * (MAX_BATCH_EVENTS + 1)}).encode()
    response = sqlite_centre.post(body)
    assert response.status_code == 413
    assert "at most 5000" in check_refusal(response)["detail"]


# --- well-formed events the centre cannot place: refused alone, never stored -----------------


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("answered_at", "9999-12-31T23:59:59+00:00", "ahead of the central store's clock"),
        ("answered_at", "2099-01-01T00:00:00-12:00", "ahead of the central store's clock"),
        ("answered_at", "0001-01-01T00:00:00+00:00", "before consultation 'water-test' opened"),
        ("answered_at", "1970-01-01T00:00:00Z", "before consultation 'water-test' opened"),
        ("consultation_id", "a" * 64, "is not published at the central store"),
        ("consultation_id", "roads-2025", "has no question 'priority'"),
        ("question_id", "q" * 64, "has no question"),
        ("question_id", "fixed", "has no question 'fixed'"),  # roads-2025's question
        ("value", "x" * 4096, "expected one of its options"),
        ("value", "WATER", "expected one of its options"),
        ("value", "water ", "expected one of its options"),
        ("value", "1", "expected one of its options"),  # the key, not the option id
        ("value", "", "expected one of its options"),
    ],
)
def test_events_that_cannot_be_placed_are_refused_alone(
    sqlite_centre: Centre, field: str, value: str, reason: str
) -> None:
    before = sqlite_centre.count()
    events = valid_events(3)
    for event in events:
        event["event_id"] = str(uuid.uuid4())
    events[1][field] = value
    response = sqlite_centre.post(json.dumps(
        {"events": events, "per_event_refusals": True}).encode())
    assert response.status_code == 200, response.data
    data = response.get_json()
    check_receipt(sqlite_centre, data, 3)
    assert [(r["index"], r["event_id"]) for r in data["refused"]] == [
        (1, events[1]["event_id"])]
    assert reason in data["refused"][0]["reason"]
    assert sqlite_centre.count() == before + 2


def test_a_full_batch_of_refused_events_is_answered_in_full(sqlite_centre: Centre) -> None:
    """Every refusal is listed, however many: the gateway marks synced what is not."""
    before = sqlite_centre.count()
    events = [make_event(n, event_id=str(uuid.uuid4()), consultation_id="nowhere")
              for n in range(MAX_BATCH_EVENTS)]
    response = sqlite_centre.post(json.dumps(
        {"events": events, "per_event_refusals": True}).encode())
    assert response.status_code == 200
    data = response.get_json()
    assert (data["new"], data["known"]) == (0, 0)
    assert [r["index"] for r in data["refused"]] == list(range(MAX_BATCH_EVENTS))
    assert sqlite_centre.count() == before


placeable = st.fixed_dictionaries({
    "consultation_id": st.sampled_from(["water-test", "roads-2025", "nowhere"]),
    "question_id": st.sampled_from(["priority", "enough", "satisfaction", "comment",
                                    "age_band", "fixed", "unknown"]),
    "status": st.sampled_from(["answered", "answered", "skipped", "unparsed"]),
    "value": st.one_of(st.none(), st.sampled_from(
        ["water", "roads", "yes", "no", "1", "5", "9", "0", "60_plus", "maybe"]),
        st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
                max_size=80)),
    "answered_at": st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
        timezones=st.just(UTC),
    ).map(lambda moment: moment.isoformat()),
})


@EXAMPLES
@given(changes=st.lists(placeable, min_size=1, max_size=6))
def test_well_formed_events_are_stored_or_refused_never_both(
    sqlite_centre: Centre, changes: list[dict[str, Any]]
) -> None:
    events = [{**make_event(n, event_id=str(uuid.uuid4())), **change}
              for n, change in enumerate(changes)]
    before = sqlite_centre.count()
    response = sqlite_centre.post(json.dumps(
        {"events": events, "per_event_refusals": True}).encode())
    assert response.status_code == 200, response.data
    data = response.get_json()
    check_receipt(sqlite_centre, data, len(events))
    assert data["known"] == 0
    assert sqlite_centre.count() == before + data["new"]
    refused = {r["index"] for r in data["refused"]}
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    for index, event in enumerate(events):
        # Whatever else: no consultation, a date before any fixture opened (2025) or one
        # in the future is always refused.
        day = event["answered_at"][:10]
        if event["consultation_id"] == "nowhere" or day < "2024-12-31" or day > tomorrow:
            assert index in refused, event
    stored_ids = sqlite_centre.stored([e["event_id"] for e in events])
    assert stored_ids == {e["event_id"] for i, e in enumerate(events) if i not in refused}


class MustNotBeRead(io.RawIOBase):
    """A request body the server must refuse before reading."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        raise AssertionError("the server read a body it should have refused")


def declared_too_large(client: FlaskClient, path: str, limit: int,
                       headers: dict[str, str] | None = None) -> Any:
    """POST announcing `limit + 1` bytes, whose body raises if anything reads it."""
    return client.post(path, headers=headers or {}, content_type="application/json",
                       environ_overrides={"wsgi.input": MustNotBeRead(),
                                          "CONTENT_LENGTH": str(limit + 1)})


def test_declared_body_over_the_limit_is_refused_unread(sqlite_centre: Centre) -> None:
    response = declared_too_large(sqlite_centre.client, "/api/v1/events", MAX_BODY_BYTES,
                                  {"Authorization": f"Bearer {sqlite_centre.token}"})
    assert response.status_code == 413
    assert response.get_json()["error"] == "Request Entity Too Large"


def test_gzip_bomb_is_refused_within_bounded_memory(sqlite_centre: Centre) -> None:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip framing
    chunk = b" " * (1024 * 1024)
    bomb = b"".join(packer.compress(chunk) for _ in range(200)) + packer.flush()  # 200 MiB
    tracemalloc.start()
    try:
        response = sqlite_centre.post(bomb, **{"Content-Encoding": "gzip"})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 413
    assert "decoded body is larger than" in check_refusal(response)["detail"]
    assert peak < 3 * MAX_BODY_BYTES  # the decoder stops at the limit
