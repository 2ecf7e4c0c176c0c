"""The use cases' rules: the reply cap, the call-back quota, the resume window and the
call-back retries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway.application.rules import (
    callbacks_counted_since,
    may_call_back,
    may_reply,
    placement_retry_at,
    replies_counted_since,
    resumable_since,
    retry_delay,
)
from gateway.settings import Settings

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def limits(tmp_path: Path, **values: int) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'g.db'}",
                    central_database_url=f"sqlite:///{tmp_path / 'c.db'}", **values)


def test_the_reply_cap_counts_replies_in_the_last_hour(tmp_path: Path) -> None:
    settings = limits(tmp_path, replies_per_hour=3)
    assert replies_counted_since(NOW) == NOW - timedelta(hours=1)
    assert [may_reply(sent, settings) for sent in range(5)] == [True, True, True, False, False]


def test_the_call_back_quota_counts_a_rolling_day(tmp_path: Path) -> None:
    settings = limits(tmp_path)
    assert settings.callbacks_per_day == 3
    assert callbacks_counted_since(NOW) == NOW - timedelta(days=1)
    assert [may_call_back(n, settings) for n in range(5)] == [True, True, True, False, False]


def test_a_dropped_call_resumes_within_a_day() -> None:
    assert resumable_since(NOW) == NOW - timedelta(hours=24)


def test_retry_delay_policy() -> None:
    assert retry_delay("busy", 1) == timedelta(minutes=2)
    assert retry_delay("no-answer", 2) == timedelta(minutes=10)
    assert retry_delay("busy", 3) is None
    assert retry_delay("failed", 1) is None
    assert retry_delay("canceled", 1) is None


def test_a_failed_placement_is_tried_three_times_more_then_given_up() -> None:
    assert [placement_retry_at(n, NOW) for n in range(1, 5)] == [
        NOW + timedelta(minutes=1), NOW + timedelta(minutes=5), NOW + timedelta(minutes=15),
        None]
