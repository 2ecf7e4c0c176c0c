"""Event batches at the centre: each event stored once whatever the deliveries, with
the gateway's contact, and the look-up of the events the centre has."""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.central.store.central_store import CentralStore
from gateway.central.store.events import Receipt
from gateway.central.validation import Batch, parse_batch
from tests.live import make_event

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def batch_of(events: list[dict], **extra: object) -> Batch:
    batch, problems = parse_batch({"events": events, **extra})
    assert batch is not None, problems
    return batch


def test_a_batch_delivered_twice_is_stored_once(store: CentralStore) -> None:
    store.add_gateway("gw-1", NOW)
    events = [make_event(n) for n in range(3)]
    assert store.receive("gw-1", batch_of(events, backlog=7), NOW) == Receipt(new=3, known=0)
    again = batch_of([*events, make_event(3)], backlog=2, quarantined=1)
    assert store.receive("gw-1", again, NOW) == Receipt(new=1, known=3)
    [info] = store.gateways()
    assert (info.backlog, info.quarantined) == (2, 1)
    newest = info.newest_event_at
    assert newest is not None
    assert newest.replace(tzinfo=UTC) == datetime(2026, 6, 1, 9, 0, 3, tzinfo=UTC)


def test_an_empty_batch_is_a_contact(store: CentralStore) -> None:
    store.add_gateway("gw-1", NOW)
    assert store.receive("gw-1", batch_of([], backlog=0), NOW) == Receipt(new=0, known=0)
    [info] = store.gateways()
    assert (info.backlog, info.newest_event_at) == (0, None)
    assert info.last_contact_at is not None


def test_known_events_are_found_among_many(store: CentralStore) -> None:
    store.add_gateway("gw-1", NOW)
    stored = [make_event(n) for n in range(700)]  # more than one look-up's 500
    store.receive("gw-1", batch_of(stored), NOW)
    unknown = [make_event(n)["event_id"] for n in range(300)]
    wanted = [e["event_id"] for e in stored[::2]]
    assert store.known_events(wanted + unknown) == set(wanted)
    assert store.known_events([]) == set()
