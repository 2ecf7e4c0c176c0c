"""Anything posted to `POST /api/v1/outreach/progress` gets 200 with what was stored or
400 with the reasons, never a 500; a refused report stores nothing, and no answer ever
echoes a phone number back."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from gateway.central.app import create_central_app
from gateway.central.store import schema
from gateway.central.store.central_store import CentralStore
from gateway.central.store.outreach import OutreachFields, OutreachStore
from gateway.settings import Settings
from tests.hostile.test_central_api import hostile_values, json_values

EXAMPLES = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PHONE = re.compile(r"\+?\d(?:[\s().-]*\d){6,}")
OUTREACH_ID = re.compile(r"o-[0-9a-f]{12}")  # the centre's own ids, echoed as they may be


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str, OutreachStore]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('hostile-outreach') / 'central.db'}"
    store = CentralStore.from_url(url, synchronous="NORMAL")
    store.create_schema()
    token = store.add_gateway("gw-hostile", datetime.now(UTC))
    outreach = OutreachStore(store.engine)
    now = datetime.now(UTC)
    made = outreach.create(OutreachFields(
        consultation_id="water-test", kind="invitation",
        audience={"source": "participants", "participants": "all", "list": None,
                  "languages": None, "regions": None},
        channels=("sms",), starts_at=now, ends_at=now + timedelta(days=1), hours_from="08:00",
        hours_to="20:00", timezone="UTC", texts={"en": "Text WATER. Reply STOP to stop."},
    ), "ada", now)  # fmt: skip
    app = create_central_app(Settings(central_database_url=url), store)
    assert made.version == 1
    yield app.test_client(), token, outreach
    store.engine.dispose()


def valid(outreach_id: str) -> dict[str, Any]:
    return {
        "id": outreach_id, "version": 1,
        "preview": {"recipients": [{"language": "sw", "channel": "sms", "count": 3}],
                    "segments": {"encoding": "GSM-7", "per_message": 1, "total": 3},
                    "excluded": {"opted_out": 1}},
        "counts": {"pending": 3}, "answered": 0,
    }  # fmt: skip


PATHS = [("id",), ("version",), ("counts",), ("counts", "sent"), ("answered",), ("preview",),
         ("preview", "recipients"), ("preview", "segments", "encoding"),
         ("preview", "excluded", "opted_out"), ("extra",)]  # fmt: skip


def mutated(outreach_id: str, path: tuple[str, ...], value: object) -> dict[str, Any]:
    report = copy.deepcopy(valid(outreach_id))
    target = report
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return report


@EXAMPLES
@given(st.one_of(
    json_values,
    st.tuples(st.sampled_from(PATHS), hostile_values),
    st.tuples(st.sampled_from(PATHS), st.from_regex(r"\+2547\d{8}", fullmatch=True)),
))  # fmt: skip
def test_any_report_is_answered_clearly(centre, drawn: object) -> None:  # type: ignore[no-untyped-def]
    client, token, outreach = centre
    outreach_id = outreach.all()[0].id
    body = {"outreach": [mutated(outreach_id, *drawn)]} if isinstance(drawn, tuple) else drawn
    with outreach.engine.begin() as conn:
        conn.execute(delete(schema.outreach_progress))
    response = client.post("/api/v1/outreach/progress", data=json.dumps(body),
                           headers={"Authorization": f"Bearer {token}",
                                    "Content-Type": "application/json"})  # fmt: skip
    assert response.status_code in (200, 400), response.get_data(as_text=True)
    answer = response.get_json()
    if response.status_code == 400:
        assert answer["problems"] and all(isinstance(p, str) for p in answer["problems"])
        assert outreach.progress(outreach_id) == []
    else:
        assert answer == {"stored": len(outreach.progress(outreach_id))}
    sent = [m for text in strings(body) if not OUTREACH_ID.fullmatch(text)
            for m in PHONE.findall(text)]  # fmt: skip
    assert not [m for m in sent if m in response.get_data(as_text=True)]  # never echoed


def strings(value: object) -> Iterator[str]:
    """Every key and text in `value`, however deep."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
