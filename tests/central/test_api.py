"""The central store's gateway API over real HTTP on loopback, on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
import json
import threading
from datetime import UTC, datetime, timedelta

import requests
from sqlalchemy import func, select

from gateway.central.store import schema
from gateway.central.validation import MAX_BATCH_EVENTS
from tests.central.conftest import CentralServer
from tests.live import make_event


def stored(central: CentralServer) -> list[dict]:
    with central.store.engine.connect() as conn:
        rows = conn.execute(select(schema.events).order_by(schema.events.c.answered_at))
        return [dict(r._mapping) for r in rows]


def count(central: CentralServer) -> int:
    with central.store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(schema.events)).scalar_one()


def gateway_row(central: CentralServer, name: str = "gw-1") -> dict:
    with central.store.engine.connect() as conn:
        row = conn.execute(
            select(schema.gateways).where(schema.gateways.c.name == name)
        ).one()
        return dict(row._mapping)


# --- authentication ------------------------------------------------------------------------


def test_missing_or_wrong_token_is_401_with_a_reason(central: CentralServer) -> None:
    url = central.url + "/api/v1/events"
    body = {"events": [make_event()]}
    missing = requests.post(url, json=body, timeout=10)
    assert missing.status_code == 401
    assert missing.json()["error"] == "unauthorized"
    assert "Authorization" in missing.json()["detail"]
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")

    basic = requests.post(url, json=body, timeout=10, headers={"Authorization": "Basic eDp5"})
    assert basic.status_code == 401
    assert "Bearer" in basic.json()["detail"]

    wrong = central.post_events([make_event()], token=central.token[:-2] + "xx")
    assert wrong.status_code == 401
    assert "unknown gateway token" in wrong.json()["detail"]

    listing = requests.get(central.url + "/api/v1/consultations", timeout=10,
                           headers={"Authorization": "Bearer nope"})
    assert listing.status_code == 401
    assert count(central) == 0
    assert gateway_row(central)["last_contact_at"] is None


def test_tokens_are_per_gateway_and_stored_hashed(central: CentralServer) -> None:
    other = central.store.add_gateway("gw-2", datetime.now(UTC))
    assert central.store.authenticate(other) == "gw-2"
    assert central.store.authenticate(central.token) == "gw-1"
    assert central.post_events([make_event(1)], token=other).json() == {
        "new": 1, "known": 0, "refused": []
    }
    assert stored(central)[0]["gateway"] == "gw-2"
    row = gateway_row(central, "gw-2")
    assert other not in json.dumps(row, default=str)
    assert len(row["token_hash"]) == 64


# --- idempotent batches ----------------------------------------------------------------------


def test_batches_are_idempotent_on_event_id(central: CentralServer) -> None:
    events = [make_event(n) for n in range(3)]
    first = central.post_events(events)
    assert first.status_code == 200
    assert first.json() == {"new": 3, "known": 0, "refused": []}
    assert central.post_events(events).json() == {"new": 0, "known": 3, "refused": []}
    # Old and new mixed, and one event twice in the same batch.
    fresh = make_event(7)
    mixed = central.post_events([events[0], fresh, fresh, events[2]])
    assert mixed.json() == {"new": 1, "known": 3, "refused": []}
    assert sorted(e["event_id"] for e in stored(central)) == sorted(
        [e["event_id"] for e in events] + [fresh["event_id"]]
    )


def test_one_event_id_in_other_spellings_is_still_one_event(central: CentralServer) -> None:
    event = make_event()
    assert central.post_events([event]).json() == {"new": 1, "known": 0, "refused": []}
    shouted = {**event, "event_id": event["event_id"].upper()}
    braced = {**event, "event_id": "{" + event["event_id"] + "}"}
    assert central.post_events([shouted, braced]).json() == {"new": 0, "known": 2, "refused": []}
    assert count(central) == 1


def test_stored_fields_match_what_was_sent(central: CentralServer) -> None:
    event = make_event(3, answered_at="2026-06-01T12:30:00+03:00", value=None,
                       status="skipped", region=None, channel="voice", language="sw")
    central.post_events([event])
    row = stored(central)[0]
    assert row["answered_at"].replace(tzinfo=None) == datetime(2026, 6, 1, 9, 30)  # UTC
    assert (row["status"], row["value"], row["channel"], row["language"], row["region"]) == (
        "skipped", None, "voice", "sw", None
    )
    assert row["gateway"] == "gw-1"
    assert row["pseudonym"] == event["pseudonym"]


def test_racing_deliveries_of_one_batch_store_it_once(central: CentralServer) -> None:
    events = [make_event(n) for n in range(200)]
    barrier = threading.Barrier(4)
    receipts: list[dict] = []

    def deliver() -> None:
        barrier.wait()
        response = central.post_events(events)
        assert response.status_code == 200, response.text
        receipts.append(response.json())

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(receipts) == 4
    assert sum(r["new"] for r in receipts) == 200
    assert sum(r["known"] for r in receipts) == 600
    assert count(central) == 200


# --- malformed batches -----------------------------------------------------------------------


def test_malformed_batch_is_refused_whole_with_a_reason_per_bad_event(
    central: CentralServer,
) -> None:
    good = make_event(0)
    bad = [
        good,
        make_event(1, event_id="not-a-uuid"),
        make_event(2, channel="fax"),
        make_event(3, status="maybe"),
        make_event(4, pseudonym="+254712345678"),
        make_event(5, consultation_id="Water Test"),
        make_event(6, answered_at="2026-06-01T09:00:00"),
        make_event(7, value="x" * 5000),
        {k: v for k, v in make_event(8).items() if k != "question_id"},
        "not an event",
        make_event(10, language=5),
        make_event(11, question_id="q" * 65),
    ]
    response = central.post_events(bad)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "malformed batch"
    problems = {(p["index"], p["field"]) for p in body["problems"]}
    assert problems == {
        (1, "event_id"), (2, "channel"), (3, "status"), (4, "pseudonym"),
        (5, "consultation_id"), (6, "answered_at"), (7, "value"), (8, "question_id"),
        (9, None), (10, "language"), (11, "question_id"),
    }
    reasons = {p["index"]: p["reason"] for p in body["problems"]}
    assert "UTC offset" in reasons[6]
    assert "missing" in reasons[8]
    assert "sms, voice" in reasons[2]
    assert count(central) == 0  # not even the good one: all or nothing
    assert gateway_row(central)["last_contact_at"] is None


def test_batch_shape_errors_have_no_event_index(central: CentralServer) -> None:
    headers = {"Authorization": f"Bearer {central.token}", "Content-Type": "application/json"}
    url = central.url + "/api/v1/events"
    not_json = requests.post(url, data=b"{events:", headers=headers, timeout=10)
    assert not_json.status_code == 400
    assert not_json.json()["problems"][0]["index"] is None
    no_list = requests.post(url, json={"events": {"a": 1}}, headers=headers, timeout=10)
    assert no_list.status_code == 400
    assert no_list.json()["problems"] == [
        {"index": None, "field": "events", "reason": "expected a list of events"}
    ]
    negative = central.post_events([make_event()], backlog=-1)
    assert negative.status_code == 400
    assert negative.json()["problems"][0]["field"] == "backlog"
    assert count(central) == 0


def test_too_many_events_in_one_batch_is_413(central: CentralServer) -> None:
    event = make_event()
    response = central.post_events([event] * (MAX_BATCH_EVENTS + 1))
    assert response.status_code == 413
    assert str(MAX_BATCH_EVENTS) in response.json()["detail"]
    assert count(central) == 0
    assert central.post_events([event] * MAX_BATCH_EVENTS).json() == {
        "new": 1, "known": MAX_BATCH_EVENTS - 1, "refused": []
    }


def test_gzip_bodies_are_accepted_and_bombs_refused(central: CentralServer) -> None:
    headers = {"Authorization": f"Bearer {central.token}", "Content-Type": "application/json",
               "Content-Encoding": "gzip"}
    url = central.url + "/api/v1/events"
    events = [make_event(n) for n in range(50)]
    body = gzip.compress(json.dumps({"events": events, "backlog": 0}).encode())
    response = requests.post(url, data=body, headers=headers, timeout=10)
    assert response.json() == {"new": 50, "known": 0, "refused": []}
    bomb = gzip.compress(b" " * (30 * 1024 * 1024))
    assert requests.post(url, data=bomb, headers=headers, timeout=30).status_code == 413
    truncated = requests.post(url, data=body[:-20], headers=headers, timeout=10)
    assert truncated.status_code == 400
    assert count(central) == 50


# --- events refused one by one for what they say ------------------------------------------


def test_a_future_dated_event_is_refused_alone_and_the_rest_stored(
    central: CentralServer,
) -> None:
    events = [make_event(n) for n in range(3)]
    tomorrow = datetime.now(UTC) + timedelta(days=1, hours=1)
    events[1]["answered_at"] = tomorrow.isoformat()  # a gateway whose clock is a day ahead
    response = central.post_events(events, backlog=5)
    assert response.status_code == 200
    body = response.json()
    assert (body["new"], body["known"]) == (2, 0)
    [refused] = body["refused"]
    assert (refused["index"], refused["event_id"]) == (1, events[1]["event_id"])
    assert refused["reason"].startswith(f"answered_at {tomorrow.isoformat()} is 1 d ")
    assert refused["reason"].endswith(" ahead of the central store's clock (at most 5 min "
                                      "allowed): check the gateway's clock")
    assert sorted(e["event_id"] for e in stored(central)) == sorted(
        [events[0]["event_id"], events[2]["event_id"]]
    )
    row = gateway_row(central)
    assert row["backlog"] == 5  # the batch counted, ...
    assert row["newest_event_at"].replace(tzinfo=None) < datetime.now(UTC).replace(tzinfo=None)


def test_an_older_gateway_gets_its_refusals_as_a_malformed_batch(
    central: CentralServer,
) -> None:
    """A gateway from before per-event refusals marks every event of a 200 synced: it
    gets the refusals as a 400 naming them, which it quarantines, and nothing is stored
    until it sends the rest again."""
    events = [make_event(n) for n in range(3)]
    events[2]["answered_at"] = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    response = central.post_events(events, reads_refusals=False)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "malformed batch" and body["problems_total"] == 1
    [problem] = body["problems"]
    assert (problem["index"], problem["field"]) == (2, None)
    assert "ahead of the central store's clock" in problem["reason"]
    assert stored(central) == []
    again = central.post_events(events[:2], reads_refusals=False)
    assert again.status_code == 200 and again.json()["new"] == 2


def test_events_the_centre_cannot_place_are_refused_each_with_its_reason(
    central: CentralServer,
) -> None:
    events = [
        make_event(0),
        make_event(1, answered_at="2025-12-31T23:59:59+03:00"),  # before water-test opened
        make_event(2, consultation_id="health-2026"),
        make_event(3, question_id="favourite_colour"),
        make_event(4, value="bridges"),
        make_event(5, question_id="satisfaction", value="11"),
        make_event(6, question_id="age_band", value="18_34"),
    ]
    response = central.post_events(events)
    assert response.status_code == 200
    body = response.json()
    assert (body["new"], body["known"]) == (2, 0)
    assert {r["index"]: (r["event_id"], r["reason"]) for r in body["refused"]} == {
        1: (events[1]["event_id"], "answered_at 2025-12-31T20:59:59+00:00 is before "
            "consultation 'water-test' opened (2025-12-31T21:00:00+00:00)"),
        2: (events[2]["event_id"],
            "consultation 'health-2026' is not published at the central store"),
        3: (events[3]["event_id"],
            "consultation 'water-test' has no question 'favourite_colour'"),
        4: (events[4]["event_id"], "answer 'bridges' to question 'priority' of "
            "'water-test': expected one of its options (water, roads, clinics, schools)"),
        5: (events[5]["event_id"], "answer '11' to question 'satisfaction' of 'water-test': "
            "expected a whole number from 1 to 5"),
    }
    assert sorted(e["event_id"] for e in stored(central)) == sorted(
        [events[0]["event_id"], events[6]["event_id"]]
    )
    # Sent again (the gateway lost the answer): the same split, nothing stored twice.
    again = central.post_events(events).json()
    assert (again["new"], again["known"], len(again["refused"])) == (0, 2, 5)
    assert count(central) == 2


def test_a_batch_of_only_refused_events_stores_nothing_but_the_contact(
    central: CentralServer,
) -> None:
    events = [make_event(n, consultation_id="not-published") for n in range(3)]
    body = central.post_events(events, backlog=0).json()
    assert (body["new"], body["known"]) == (0, 0)
    assert [r["index"] for r in body["refused"]] == [0, 1, 2]
    assert count(central) == 0
    assert gateway_row(central)["last_contact_at"] is not None


def test_an_event_the_centre_has_is_known_even_where_it_would_now_be_refused(
    central: CentralServer,
) -> None:
    from tests.conftest import FIXTURE_FLOWS

    early = make_event(1, answered_at="2026-06-01T09:00:00+03:00")
    assert central.post_events([early]).json()["new"] == 1
    # The consultation is republished to open later: the stored event stays stored and,
    # sent again, is known; an event of the same date sent for the first time is refused.
    text = (FIXTURE_FLOWS / "water.yaml").read_text()
    central.store.publish(text.replace("opens: 2026-01-01T00:00:00+03:00",
                                       "opens: 2026-07-01T00:00:00+03:00"),
                          "water.yaml", datetime.now(UTC))
    fresh = make_event(2, answered_at="2026-06-01T09:00:00+03:00")
    body = central.post_events([early, fresh]).json()
    assert (body["new"], body["known"]) == (0, 1)
    assert [(r["index"], r["event_id"]) for r in body["refused"]] == [(1, fresh["event_id"])]
    assert "before consultation 'water-test' opened (2026-06-30T21:00:00+00:00)" in (
        body["refused"][0]["reason"])


def test_a_malformed_event_still_refuses_the_whole_batch(central: CentralServer) -> None:
    """Shape errors stay all or nothing, and are reported alone: a batch that is refused
    whole lists no per-event refusals."""
    events = [make_event(0), make_event(1, consultation_id="nowhere"),
              make_event(2, channel="fax")]
    response = central.post_events(events)
    assert response.status_code == 400
    body = response.json()
    assert "refused" not in body
    assert [(p["index"], p["field"]) for p in body["problems"]] == [(2, "channel")]
    assert count(central) == 0


# --- what the dashboard reads about gateways -------------------------------------------------


def test_gateway_contact_newest_event_and_backlog_are_kept(central: CentralServer) -> None:
    before = datetime.now(UTC)
    central.post_events([make_event(0, answered_at="2026-06-02T10:00:00+00:00")], backlog=40)
    row = gateway_row(central)
    assert row["backlog"] == 40
    assert row["newest_event_at"].replace(tzinfo=None) == datetime(2026, 6, 2, 10, 0)
    first_contact = row["last_contact_at"].replace(tzinfo=UTC)
    assert first_contact >= before.replace(microsecond=0)
    # An older event arriving later does not move "newest" back.
    central.post_events([make_event(1, answered_at="2026-06-01T10:00:00+00:00")], backlog=0)
    row = gateway_row(central)
    assert row["newest_event_at"].replace(tzinfo=None) == datetime(2026, 6, 2, 10, 0)
    assert row["backlog"] == 0
    assert row["last_contact_at"].replace(tzinfo=UTC) >= first_contact
    # A heartbeat with no events reports the quarantine.
    response = requests.post(central.url + "/api/v1/events", timeout=10,
                             json={"events": [], "backlog": 0, "quarantined": 2},
                             headers={"Authorization": f"Bearer {central.token}"})
    assert response.json() == {"new": 0, "known": 0, "refused": []}
    assert gateway_row(central)["quarantined"] == 2
    [info] = central.store.gateways()
    assert (info.name, info.backlog, info.quarantined) == ("gw-1", 0, 2)


# --- consultations ---------------------------------------------------------------------------


def test_consultations_list_with_etag_and_304(central: CentralServer) -> None:
    from tests.conftest import FIXTURE_FLOWS

    text = (FIXTURE_FLOWS / "water.yaml").read_text()
    central.store.publish(text, "water.yaml", datetime.now(UTC))
    headers = {"Authorization": f"Bearer {central.token}"}
    url = central.url + "/api/v1/consultations"
    first = requests.get(url, headers=headers, timeout=10)
    assert first.status_code == 200
    assert first.json() == [  # the fixture's two, sorted by id
        {"id": "roads-2025", "version": 1,
         "definition": (FIXTURE_FLOWS / "closed.yaml").read_text()},
        {"id": "water-test", "version": 1, "definition": text},
    ]
    etag = first.headers["ETag"]
    again = requests.get(url, headers={**headers, "If-None-Match": etag}, timeout=10)
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["ETag"] == etag
    assert gateway_row(central)["last_contact_at"] is not None

    central.store.publish(text.replace("Water services", "Water service"), "water.yaml",
                          datetime.now(UTC))
    changed = requests.get(url, headers={**headers, "If-None-Match": etag}, timeout=10)
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert [(c["id"], c["version"]) for c in changed.json()] == [("roads-2025", 1),
                                                                   ("water-test", 2)]


def test_unknown_api_route_answers_json(central: CentralServer) -> None:
    response = requests.get(central.url + "/api/v1/nothing", timeout=10,
                            headers={"Authorization": f"Bearer {central.token}"})
    assert response.status_code == 404
    assert response.json()["error"] == "Not Found"
