"""Outreach in the sync pass, against a stand-in for a centre that serves the documented
JSON (docs/outreach.md §2-3) over HTTP: fetched with its ETag, refused whole when one
definition is unreadable, skipped when the centre has no such route, and progress
reported with counts and never a number."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask, Response, jsonify, request
from sqlalchemy import Engine

from gateway.application.outreach_runner import progress_reports
from gateway.application.services import open_local_store
from gateway.settings import Settings
from gateway.store.outbox import OutboxStore
from gateway.store.outreach import OutreachStore
from gateway.store.sync_state import SyncStateStore
from gateway.sync.client import CentralClient, HttpTransport
from gateway.sync.outreach import OUTREACH_ERROR, refresh_outreach, report_progress
from gateway.sync.runner import Syncer
from tests.application.outreach_world import definition, participant
from tests.live import LiveServer

TOKEN = "gateway-token-0123456789"


@dataclass
class StandInCentre:
    """Serves GET /api/v1/outreach and takes POST /api/v1/outreach/progress."""

    outreach: list[dict[str, Any]] = field(default_factory=list)
    etag: str = '"v1"'
    offers_outreach: bool = True
    fetches: list[str | None] = field(default_factory=list)  # If-None-Match of each GET
    progress: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def app(self) -> Flask:
        app = Flask(__name__)

        def authorised() -> bool:
            return request.headers.get("Authorization") == f"Bearer {TOKEN}"

        @app.get("/api/v1/outreach")
        def outreach() -> Response:
            if not self.offers_outreach:
                return Response("not found", status=404)
            if not authorised():
                return Response(status=401)
            self.fetches.append(request.headers.get("If-None-Match"))
            if request.headers.get("If-None-Match") == self.etag:
                return Response(status=304)
            response = jsonify(self.outreach)
            response.headers["ETag"] = self.etag
            return response

        @app.post("/api/v1/outreach/progress")
        def progress() -> Response:
            if not self.offers_outreach:
                return Response("not found", status=404)
            body = request.get_json()
            self.progress.append(body)
            return jsonify(stored=len(body["outreach"]))

        @app.post("/api/v1/events")
        def events() -> Response:
            return jsonify(new=len(request.get_json()["events"]), known=0)

        return app


@pytest.fixture
def centre() -> Iterator[StandInCentre]:
    stand_in = StandInCentre(outreach=[definition()])
    with LiveServer(stand_in.app()) as server:
        stand_in.url = server.url
        yield stand_in


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = open_local_store(settings).engine
    yield engine
    engine.dispose()


def client(centre: StandInCentre) -> CentralClient:
    return CentralClient(HttpTransport(centre.url), TOKEN)


def test_outreach_is_fetched_and_then_asked_for_with_its_etag(
    centre: StandInCentre, engine: Engine,
) -> None:
    store, state = OutreachStore(engine), SyncStateStore(engine)
    assert refresh_outreach(client(centre), store, state) == "updated"
    [cached] = store.cached()
    assert (cached.id, cached.version, cached.status) == ("o-1", 1, "started")
    assert json.loads(cached.definition) == definition() | {
        "starts_at": json.loads(cached.definition)["starts_at"],
        "ends_at": json.loads(cached.definition)["ends_at"]}
    assert refresh_outreach(client(centre), store, state) == "unchanged"
    assert centre.fetches == [None, '"v1"']
    centre.outreach, centre.etag = [definition(status="paused", version=2)], '"v2"'
    assert refresh_outreach(client(centre), store, state) == "updated"
    assert [c.status for c in store.cached()] == ["paused"]


def test_one_unreadable_definition_keeps_the_previous_set_and_says_why(
    centre: StandInCentre, engine: Engine,
) -> None:
    store, state = OutreachStore(engine), SyncStateStore(engine)
    refresh_outreach(client(centre), store, state)
    centre.outreach = [definition(version=2), definition(id="o-2", channels=["fax"])]
    centre.etag = '"v2"'
    assert refresh_outreach(client(centre), store, state) == "refused"
    assert [(c.id, c.version) for c in store.cached()] == [("o-1", 1)]
    assert "o-2" in state.state([OUTREACH_ERROR])[OUTREACH_ERROR]
    assert "channels" in state.state([OUTREACH_ERROR])[OUTREACH_ERROR]


def test_a_centre_without_outreach_is_skipped(centre: StandInCentre, engine: Engine) -> None:
    centre.offers_outreach = False
    store, state = OutreachStore(engine), SyncStateStore(engine)
    assert refresh_outreach(client(centre), store, state) == "not offered"
    assert report_progress(client(centre), lambda: [{"id": "o-1"}], state, force=True) is None
    assert store.cached() == []


def test_progress_carries_preview_counts_and_answers_but_no_number(
    centre: StandInCentre, engine: Engine,
) -> None:
    participant(engine, "+254711000001", "en")
    participant(engine, "+254711000002", "sw", completed=True)
    refresh_outreach(client(centre), OutreachStore(engine), SyncStateStore(engine))
    stored = report_progress(client(centre), lambda: progress_reports(engine, {}),
                             SyncStateStore(engine), force=True)
    assert stored == 1
    [body] = centre.progress
    text = json.dumps(body)
    assert "+2547" not in text and "254711" not in text
    [report] = body["outreach"]
    assert (report["id"], report["version"], report["answered"]) == ("o-1", 1, 0)
    assert report["preview"]["recipients"] == [
        {"language": "en", "channel": "sms", "count": 1},
        {"language": "sw", "channel": "sms", "count": 1}]
    assert report["counts"] == {"pending": 0, "sending": 0, "sent": 0, "delivered": 0,
                                "failed": 0, "excluded": 0}
    # Not again within the minute unless the set changed.
    assert report_progress(client(centre), lambda: progress_reports(engine, {}),
                           SyncStateStore(engine), force=False) is None


def test_a_sync_pass_fetches_outreach_and_reports_after_the_events(
    centre: StandInCentre, engine: Engine, settings: Settings,
) -> None:
    participant(engine, "+254711000001", "en")
    syncer = Syncer(settings, OutboxStore(engine), lambda: client(centre),
                    refresh_catalog=False)
    syncer.outreach_progress = lambda: progress_reports(engine, {})
    report = syncer.run(force=True)
    assert (report.outcome, report.outreach) == ("synced", "updated")
    assert [r["id"] for r in centre.progress[0]["outreach"]] == ["o-1"]
    centre.offers_outreach = False  # an older centre: the pass still succeeds
    assert syncer.run(force=True).outcome == "synced"
