"""The outbox in the local store: events sent oldest first, marked synced by their own ids,
quarantined and released, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from gateway.store import schema
from gateway.store.outbox import OutboxStore
from tests.conftest import GatewayHarness
from tests.loopback_centre import Centre, Gateway, take_part


def test_only_events_acknowledged_are_marked(
    database_url: str, centre: Centre, remote_gateway: Gateway
) -> None:
    """Marking uses the batch's own ids, never a seq range."""
    for n in range(2):
        take_part(remote_gateway.client, n)
    outbox = OutboxStore(remote_gateway.services.store.engine)
    batch = outbox.next_batch(3)
    assert [e.seq for e in batch] == sorted(e.seq for e in batch)
    skipped = batch[1].seq
    assert outbox.mark_synced([batch[0].seq, batch[2].seq],
                              datetime.now(UTC)) == 2
    with remote_gateway.services.store.engine.connect() as conn:
        unsynced = conn.execute(
            select(schema.events.c.seq).where(schema.events.c.synced_at.is_(None))
            .order_by(schema.events.c.seq)
        ).scalars().all()
    assert unsynced[0] == skipped
    assert len(unsynced) == 8


def test_quarantined_events_wait_outside_the_backlog_until_released(
    gateway: GatewayHarness,
) -> None:
    take_part(gateway.client, 1)
    outbox = OutboxStore(gateway.services.store.engine)
    batch = outbox.next_batch(10)
    assert [e.payload["question_id"] for e in batch] == [
        "priority", "enough", "satisfaction", "comment", "age_band"]
    assert outbox.quarantine({batch[0].seq: "refused by the central store: why"}) == 1
    assert outbox.backlog() == 4
    assert [e.seq for e in outbox.next_batch(10)] == [e.seq for e in batch[1:]]
    total, [held] = outbox.quarantined()
    assert (total, held.seq, held.question_id) == (1, batch[0].seq, "priority")
    assert held.error == "refused by the central store: why"
    assert outbox.release_quarantined() == 1
    assert outbox.backlog() == 5
    assert [e.seq for e in outbox.next_batch(10)] == [e.seq for e in batch]  # in order again
    assert outbox.mark_synced([e.seq for e in batch], datetime.now(UTC)) == 5
    assert outbox.quarantine({batch[0].seq: "too late"}) == 0  # synced: nothing to hold back
    assert (outbox.backlog(), outbox.quarantined()[0]) == (0, 0)
