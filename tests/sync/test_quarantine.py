"""Events the centre will not take are quarantined with its reasons and the rest keep
flowing; a refusal that names no event of the batch marks nothing. Against a real central
server on loopback, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import insert

from gateway.cli import cli
from gateway.store import schema
from gateway.store.outbox import OutboxEvent
from gateway.sync.client import (
    CentralClient,
    CentralRefused,
    HttpReply,
    HttpTransport,
    Refused,
    Transport,
)
from gateway.sync.quarantine import reasons_from, refused_in
from gateway.sync.runner import Syncer
from tests.live import cli_env, make_event, settings_env
from tests.loopback_centre import (
    Centre,
    Gateway,
    flows_dir_copy,
    gateway_settings,
    make_gateway,
    take_part,
)


def test_malformed_event_is_quarantined_and_the_rest_flows(
    database_url: str, centre: Centre, remote_gateway: Gateway
) -> None:
    accepted: Counter = Counter()
    for n in range(3):
        accepted += take_part(remote_gateway.client, n)
    poison = make_event(99, pseudonym="not-a-pseudonym")
    with remote_gateway.services.store.engine.begin() as conn:
        conn.execute(insert(schema.events).values(
            {**poison, "answered_at": datetime.now(UTC)}))
    for n in range(3, 6):
        accepted += take_part(remote_gateway.client, n)
    settings = remote_gateway.services.settings.with_overrides(sync_batch_size=4)
    syncer = Syncer(settings, remote_gateway.outbox,
                    lambda: CentralClient(HttpTransport(centre.url), settings.central_token),
                    refresh_catalog=False)
    report = syncer.run()
    assert (report.outcome, report.sent, report.quarantined) == ("synced", 30, 1)
    assert centre.total() == 30
    assert centre.tally() == accepted
    total, quarantined = remote_gateway.outbox.quarantined()
    assert total == 1
    assert quarantined[0].event_id == poison["event_id"]
    assert "pseudonym" in quarantined[0].error
    assert remote_gateway.outbox.backlog() == 0
    [info] = centre.store.gateways()
    assert info.quarantined == 1
    # Quarantined events are not sent again until an operator asks.
    assert syncer.run(force=True).sent == 0
    assert remote_gateway.outbox.release_quarantined() == 1
    again = syncer.run(force=True)
    assert (again.sent, again.quarantined) == (0, 1)
    assert centre.total() == 30


def test_future_dated_event_is_quarantined_alone_and_shown_by_status(
    database_url: str, centre: Centre, remote_gateway: Gateway
) -> None:
    accepted: Counter = Counter()
    for n in range(2):
        accepted += take_part(remote_gateway.client, n)
    # What a gateway whose clock ran a day ahead records (its answers, its clock).
    ahead = make_event(99, answered_at=datetime.now(UTC) + timedelta(days=1))
    with remote_gateway.services.store.engine.begin() as conn:
        conn.execute(insert(schema.events).values(ahead))
    for n in range(2, 4):
        accepted += take_part(remote_gateway.client, n)
    settings = remote_gateway.services.settings.with_overrides(sync_batch_size=4)
    syncer = Syncer(settings, remote_gateway.outbox,
                    lambda: CentralClient(HttpTransport(centre.url), settings.central_token),
                    refresh_catalog=False)
    report = syncer.run()
    assert (report.outcome, report.sent, report.new, report.known, report.quarantined) == (
        "synced", 20, 20, 0, 1)
    assert centre.total() == 20
    assert centre.tally() == accepted  # every other event of its batch was stored
    total, quarantined = remote_gateway.outbox.quarantined()
    assert total == 1
    assert quarantined[0].event_id == ahead["event_id"]
    assert quarantined[0].error.startswith("refused by the central store: answered_at ")
    assert "ahead of the central store's clock (at most 5 min allowed): check the " \
           "gateway's clock" in quarantined[0].error
    assert remote_gateway.outbox.backlog() == 0
    assert remote_gateway.unsynced() == 1  # held back, not marked synced
    [info] = centre.store.gateways()
    assert (info.backlog, info.quarantined) == (0, 1)

    env = cli_env(settings_env(database_url=settings.database_url, central_url=centre.url,
                               central_token=settings.central_token, gateway_id="gw-a",
                               pseudonym_key=settings.pseudonym_key))
    status = CliRunner().invoke(cli, ["status"], env=env)
    assert status.exit_code == 0, status.output
    assert "quarantined: 1 event refused by the centre\n" in status.output
    assert (f"  {ahead['event_id']} water-test/priority: refused by the central store: "
            f"answered_at ") in status.output
    assert "check the gateway's clock" in status.output
    assert "`civicline sync --retry-quarantined`" in status.output

    # Sent again as is, it is refused again: still quarantined, nothing stored.
    assert remote_gateway.outbox.release_quarantined() == 1
    again = syncer.run(force=True)
    assert (again.outcome, again.sent, again.quarantined) == ("synced", 0, 1)
    assert centre.total() == 20


def test_answers_to_a_consultation_the_centre_lacks_wait_until_it_is_published(
    database_url: str, centre: Centre, tmp_path: Path
) -> None:
    """A gateway serving a consultation from FLOWS_DIR that nobody published at the centre
    keeps its answers in quarantine, with the reason, until it is published."""
    flows = flows_dir_copy(tmp_path)
    extra = (flows / "water.yaml").read_text().replace("id: water-test", "id: water-extra") \
        .replace("keywords: [WATER, MAJI]", "keywords: [EXTRA]") \
        .replace("+254700000001", "+254700000009")
    (flows / "extra.yaml").write_text(extra)
    gateway = make_gateway(gateway_settings(database_url, centre, "gw-a", flows_dir=flows))
    try:
        accepted = take_part(gateway.client, 1)
        for body in ("EXTRA", "2", "no", "4", "Too far", "3"):
            gateway.client.sms("+254799000001", body)
        syncer = gateway.services.syncer
        assert syncer is not None
        report = syncer.run()
        assert (report.outcome, report.sent, report.quarantined) == ("synced", 5, 5)
        assert centre.tally() == accepted
        total, quarantined = gateway.outbox.quarantined()
        assert total == 5
        assert {q.consultation_id for q in quarantined} == {"water-extra"}
        assert {q.error for q in quarantined} == {
            "refused by the central store: consultation 'water-extra' is not published at "
            "the central store"
        }

        centre.store.publish(extra, "extra.yaml", datetime.now(UTC))
        assert gateway.outbox.release_quarantined() == 5
        after = syncer.run(force=True)
        assert (after.outcome, after.sent, after.new, after.quarantined) == (
            "synced", 5, 5, 0)
        assert centre.total() == 10
        assert gateway.outbox.quarantined()[0] == 0
        assert [g.quarantined for g in centre.store.gateways()] == [0]
    finally:
        gateway.close()


class RewritesRefusals:
    """A centre (or a proxy) answering 200 with refusals this batch does not hold."""

    def __init__(self, inner: Transport, refused: object) -> None:
        self.inner = inner
        self.refused = refused

    def request(self, method: str, path: str, headers: Mapping[str, str],
                body: bytes | None) -> HttpReply:
        reply = self.inner.request(method, path, headers, body)
        if path.endswith("/events") and reply.status == 200:
            data = {**reply.json(), "refused": self.refused}
            return HttpReply(200, reply.headers, json.dumps(data).encode())
        return reply


@pytest.mark.parametrize("refused", [
    [{"index": 7, "event_id": "00000000-0000-4000-8000-000000000000", "reason": "?"}],
    [{"index": 0, "event_id": "00000000-0000-4000-8000-000000000000", "reason": "?"}],
    "all of them",
    [{"index": "zero"}],
])
def test_refusals_that_do_not_name_the_batch_mark_nothing(
    database_url: str, centre: Centre, remote_gateway: Gateway, refused: object
) -> None:
    accepted = take_part(remote_gateway.client, 1)
    settings = remote_gateway.services.settings
    syncer = Syncer(settings, remote_gateway.outbox,
                    lambda: CentralClient(RewritesRefusals(HttpTransport(centre.url), refused),
                                          settings.central_token),
                    refresh_catalog=False)
    report = syncer.run()
    assert report.outcome == "failed"
    assert remote_gateway.unsynced() == 5  # nothing marked, nothing quarantined
    assert remote_gateway.outbox.quarantined()[0] == 0
    # The centre stored them; sent again, they are known.
    again = remote_gateway.services.syncer.run(force=True)  # type: ignore[union-attr]
    assert (again.outcome, again.sent, again.known) == ("synced", 5, 5)
    assert centre.tally() == accepted


def batch_of(*event_ids: str) -> list[OutboxEvent]:
    return [OutboxEvent(seq, {"event_id": event_id}) for seq, event_id in enumerate(event_ids, 1)]


def test_a_malformed_batch_names_its_events_by_position() -> None:
    batch = batch_of("a", "b", "c")
    problems = [{"index": 2, "field": "pseudonym", "reason": "not a pseudonym"},
                {"index": 2, "reason": "twice"}, {"index": 9, "reason": "not in the batch"},
                {"field": "events", "reason": "no index"}]
    assert reasons_from(batch, problems) == {2: ["pseudonym: not a pseudonym", "event: twice"]}
    with pytest.raises(CentralRefused, match="without naming an event"):
        reasons_from(batch, [{"field": "events", "reason": "too many"}])


def test_refusals_name_events_by_position_and_id_in_any_spelling_of_the_uuid() -> None:
    event_id = "0b4f3d0e-3c1a-4f6e-9b7d-2a5c8e1f4d6b"
    batch = batch_of("x", event_id)
    refused = [Refused(1, event_id.upper(), "in the future"), Refused(1, event_id, "twice")]
    assert refused_in(batch, refused) == {1: ["in the future", "twice"]}
    assert refused_in(batch, []) == {}
    with pytest.raises(CentralRefused, match="not in the batch sent"):
        refused_in(batch, [Refused(0, event_id, "wrong position")])
