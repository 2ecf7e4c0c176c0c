"""GET /api/v1/outreach and POST /api/v1/outreach/progress on a real central server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import requests

from gateway.central.store.outreach import OutreachFields, OutreachStatus, OutreachStore
from tests.central.conftest import CentralServer
from tests.central.outreach_reports import progress_report


def define(central: CentralServer, **changes: object) -> str:
    now = datetime.now(UTC)
    values: dict[str, object] = {
        "consultation_id": "water-test", "kind": "invitation",
        "audience": {"source": "contacts", "participants": None, "list": "market-women",
                     "languages": None, "regions": ["Kisumu"]},
        "channels": ("sms",), "starts_at": now, "ends_at": now + timedelta(days=2),
        "hours_from": "08:00", "hours_to": "20:00", "timezone": "Etc/GMT-3",
        "texts": {"en": "Text WATER. Reply STOP to stop.", "sw": "Tuma MAJI. Jibu STOP."},
    }  # fmt: skip
    values.update(changes)
    return (
        OutreachStore(central.store.engine)
        .create(
            OutreachFields(**values),
            "ada",
            now,  # type: ignore[arg-type]
        )
        .id
    )


def get(central: CentralServer, token: str | None = None, **headers: str) -> requests.Response:
    return requests.get(
        central.url + "/api/v1/outreach", timeout=30,
        headers={"Authorization": f"Bearer {token or central.token}", **headers},
    )  # fmt: skip


def post(central: CentralServer, body: object, token: str | None = None) -> requests.Response:
    return requests.post(
        central.url + "/api/v1/outreach/progress", json=body, timeout=30,
        headers={"Authorization": f"Bearer {token or central.token}"},
    )  # fmt: skip


def test_the_list_needs_a_gateway_token(central: CentralServer) -> None:
    assert get(central, token="not-a-token").status_code == 401
    assert requests.get(central.url + "/api/v1/outreach", timeout=30).status_code == 401
    assert post(central, {"outreach": []}, token="not-a-token").status_code == 401


def test_drafts_are_listed_and_an_unchanged_list_is_304(central: CentralServer) -> None:
    outreach_id = define(central)
    first = get(central)
    assert first.status_code == 200
    [listed] = first.json()
    assert listed["id"] == outreach_id and listed["status"] == "draft"
    assert listed["audience"]["list"] == "market-women"
    assert listed["hours"] == {"from": "08:00", "to": "20:00", "timezone": "Etc/GMT-3"}
    etag = first.headers["ETag"]
    again = get(central, **{"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    OutreachStore(central.store.engine).change(
        outreach_id, datetime.now(UTC), status=OutreachStatus.STARTED
    )
    changed = get(central, **{"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.json()[0]["status"] == "started" and changed.json()[0]["version"] == 2


def test_what_finished_more_than_a_day_ago_is_left_out(central: CentralServer) -> None:
    now = datetime.now(UTC)
    define(central, starts_at=now - timedelta(days=4), ends_at=now - timedelta(days=2))
    recent = define(central, starts_at=now - timedelta(days=4), ends_at=now - timedelta(hours=2))
    assert [o["id"] for o in get(central).json()] == [recent]


def report(outreach_id: str, version: int = 1, **changes: object) -> dict[str, object]:
    return progress_report(outreach_id, version, **changes)


def test_a_report_is_stored_as_the_gateways_latest(central: CentralServer) -> None:
    outreach_id = define(central)
    answer = post(central, {"outreach": [report(outreach_id)]})
    assert answer.status_code == 200 and answer.json() == {"stored": 1}
    later = report(outreach_id, counts={"sent": 95, "pending": 695}, answered=9)
    del later["preview"]
    assert post(central, {"outreach": [later]}).json() == {"stored": 1}
    [stored] = OutreachStore(central.store.engine).progress(outreach_id)
    assert (stored.gateway, stored.counts, stored.answered) == (
        "gw-1",
        {"sent": 95, "pending": 695},
        9,
    )
    assert stored.preview is not None and stored.preview["recipients"][0]["count"] == 812


def test_a_report_holding_a_phone_number_is_refused_whole(central: CentralServer) -> None:
    outreach_id = define(central)
    sneaked_in = (
        {"language": "+254700000001", "channel": "sms", "count": 1},
        {"language": "sw", "channel": "sms", "count": 1, "0712 345 678": 1},
    )
    for sneaked in sneaked_in:
        bad = report(outreach_id)
        bad["preview"]["recipients"] = [sneaked]  # type: ignore[index]
        answer = post(central, {"outreach": [report(outreach_id), bad]})
        assert answer.status_code == 400
        assert "looks like a phone number" in answer.json()["problems"][0]
        assert "700000001" not in answer.text and "345" not in answer.text  # not echoed
    assert OutreachStore(central.store.engine).progress(outreach_id) == []


def test_malformed_or_unknown_reports_are_refused_and_nothing_is_stored(
    central: CentralServer,
) -> None:
    outreach_id = define(central)
    cases = [
        ({"outreach": [report(outreach_id, counts={"sent": -1})]},
         "outreach[0].counts.sent: expected a whole number from 0 to 1000000000"),
        ({"outreach": [report(outreach_id, counts={"read": 1})]},
         "outreach[0].counts: unknown keys read"),
        ({"outreach": [report("o-000000000000")]},
         "outreach[0].id: no outreach o-000000000000 at the centre"),
        ({"outreach": [report(outreach_id, version=2)]},
         f"outreach[0].version: {outreach_id} is at version 1, not 2"),
        ({"reports": []}, "body: unknown keys reports"),
    ]  # fmt: skip
    for body, problem in cases:
        answer = post(central, body)
        assert answer.status_code == 400, body
        assert problem in answer.json()["problems"], answer.json()
    garbled = requests.post(central.url + "/api/v1/outreach/progress", data=b"{", timeout=30,
                            headers={"Authorization": f"Bearer {central.token}"})  # fmt: skip
    assert garbled.status_code == 400 and "not JSON" in garbled.json()["detail"]
    assert OutreachStore(central.store.engine).progress(outreach_id) == []
