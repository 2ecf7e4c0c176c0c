"""Outbound rows on SQLite and PostgreSQL: one per (outreach, recipient, channel), claimed
by one sender only, moved forward only by the provider's news."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from gateway.database import make_engine
from gateway.store.outbound import STALE_CLAIM, OutboundStore, RowState
from gateway.store.participants import LocalStore

NOW = datetime.now(UTC)


@pytest.fixture
def rows(database_url: str) -> Iterator[OutboundStore]:
    engine = make_engine(database_url)
    LocalStore(engine).create_schema()
    yield OutboundStore(engine)
    engine.dispose()


def row(n: int, channel: str = "sms", outreach: str = "o-1") -> dict[str, str]:
    return {"outreach_id": outreach, "pseudonym": f"p{n}", "phone": f"+2547110000{n:02d}",
            "channel": channel, "language": "en", "body": "Reply STOP to stop."}


def test_materialising_twice_makes_one_row_per_recipient_and_channel(
    rows: OutboundStore,
) -> None:
    assert rows.materialise([row(1), row(2), row(1, "voice")], NOW) == 3
    assert rows.materialise([row(1), row(2), row(3)], NOW) == 1
    assert rows.materialise([row(1, outreach="o-2")], NOW) == 1
    assert rows.counts("o-1")["pending"] == 4


def test_two_senders_never_claim_the_same_row(rows: OutboundStore) -> None:
    rows.materialise([row(n) for n in range(40)], NOW)
    claimed: list[list[int]] = []
    lock = threading.Lock()

    def sender() -> None:
        while batch := rows.claim("o-1", "sms", 3, NOW):
            with lock:
                claimed.append([r.id for r in batch])

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [i for batch in claimed for i in batch]
    assert sorted(ids) == sorted(set(ids)) and len(ids) == 40
    assert rows.counts("o-1")["sending"] == 40


def test_a_row_due_later_is_not_claimed_before_then(rows: OutboundStore) -> None:
    rows.materialise([row(1)], NOW)
    [claimed] = rows.claim("o-1", "sms", 5, NOW)
    assert claimed.attempts == 1
    assert rows.retry_at(claimed.id, NOW + timedelta(minutes=2), "429", NOW)
    assert rows.claim("o-1", "sms", 5, NOW + timedelta(minutes=1)) == []
    [again] = rows.claim("o-1", "sms", 5, NOW + timedelta(minutes=3))
    assert again.attempts == 2


def test_only_rows_claimed_long_ago_are_stale(rows: OutboundStore) -> None:
    rows.materialise([row(1), row(2)], NOW)
    first, _ = rows.claim("o-1", "sms", 5, NOW)
    assert rows.stale("o-1", NOW + STALE_CLAIM - timedelta(seconds=1)) == []
    stale = rows.stale("o-1", NOW + STALE_CLAIM + timedelta(seconds=1))
    assert [r.id for r, _ in stale] == [first.id, first.id + 1]
    assert abs((stale[0][1] - NOW).total_seconds()) < 1


def test_the_providers_news_moves_a_row_forward_only(rows: OutboundStore) -> None:
    rows.materialise([row(1)], NOW)
    [claimed] = rows.claim("o-1", "sms", 1, NOW)
    assert rows.sent(claimed.id, "SM1", NOW)
    assert not rows.sent(claimed.id, "SM2", NOW)  # once
    assert rows.provider_status(claimed.id, RowState.DELIVERED, "SM1", None, NOW)
    assert not rows.provider_status(claimed.id, RowState.SENT, "SM1", None, NOW)
    assert not rows.provider_status(claimed.id, RowState.FAILED, "SM1", "30003", NOW)
    found = rows.row(claimed.id)
    assert found is not None and (found.state, found.provider_sid) == ("delivered", "SM1")


def test_counts_and_calls_in_progress(rows: OutboundStore) -> None:
    rows.materialise([row(1, "voice"), row(2, "voice"), row(3)], NOW)
    calls = rows.claim("o-1", "voice", 5, NOW)
    rows.sent(calls[0].id, "CA1", NOW)
    assert rows.calls_in_progress() == 2
    rows.provider_status(calls[0].id, RowState.DELIVERED, "CA1", None, NOW)
    rows.excluded(calls[1].id, "opted_out", NOW)
    assert rows.calls_in_progress() == 0
    assert rows.counts("o-1") == {"pending": 1, "sending": 0, "sent": 0, "delivered": 1,
                                  "failed": 0, "excluded": 1}
