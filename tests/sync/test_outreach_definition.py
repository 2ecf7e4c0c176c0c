"""An outreach as published, read: every field checked, the bad one named."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

import pytest

from gateway.sync.outreach_definition import OutreachInvalid, parse_outreach
from tests.application.outreach_world import definition


def test_a_published_definition_is_read_whole() -> None:
    found = parse_outreach(definition(
        channels=["sms", "voice"], audience={"languages": ["sw"], "regions": ["Coast"]},
        hours={"from": "08:00", "to": "20:00", "timezone": "Africa/Nairobi"}))
    assert (found.id, found.version, found.kind, found.status) == \
        ("o-1", 1, "invitation", "started")
    assert found.channels == ("sms", "voice")
    assert (found.audience.languages, found.audience.regions) == (("sw",), ("Coast",))
    assert (found.hours.start, found.hours.end) == (time(8), time(20))
    assert found.sendable(datetime.now(UTC).replace(hour=9))  # 12:00 in Nairobi


def test_hours_may_run_past_midnight() -> None:
    found = parse_outreach(definition(hours={"from": "20:00", "to": "02:00",
                                             "timezone": "UTC"}))
    day = datetime(2026, 12, 3, tzinfo=UTC)
    assert found.hours.contains(day.replace(hour=23))
    assert found.hours.contains(day.replace(hour=1))
    assert not found.hours.contains(day.replace(hour=12))


@pytest.mark.parametrize(("changes", "named"), [
    ({"version": "4"}, "version"),
    ({"kind": "advert"}, "kind"),
    ({"status": "running"}, "status"),
    ({"channels": []}, "channels"),
    ({"channels": ["sms", "fax"]}, "channels"),
    ({"texts": {"en": " "}}, "texts"),
    ({"starts_at": "tomorrow"}, "starts_at"),
    ({"ends_at": "2026-12-10T17:00:00"}, "ends_at must carry its UTC offset"),
    ({"ends_at": "2000-01-01T00:00:00+00:00"}, "ends_at must be after starts_at"),
    ({"hours": {"from": "8am", "to": "20:00", "timezone": "UTC"}}, "hours.from"),
    ({"hours": {"from": "08:00", "to": "20:00", "timezone": "Mars/Olympus"}},
     "hours.timezone"),
    ({"audience": {"source": "everyone"}}, "audience.source"),
    ({"audience": {"source": "contacts", "list": None}}, "audience.list"),
    ({"audience": {"participants": "some"}}, "audience.participants"),
    ({"audience": {"languages": "sw"}}, "audience.languages"),
    ({"kind": "reminder"}, "a reminder's audience must be participants: not_completed"),
])
def test_a_bad_field_is_refused_by_name(changes: dict[str, Any], named: str) -> None:
    with pytest.raises(OutreachInvalid, match="outreach o-1: .*" + named.replace(".", r"\.")):
        parse_outreach(definition(**changes))


def test_json_text_and_its_problems() -> None:
    import json

    assert parse_outreach(json.dumps(definition())).id == "o-1"
    with pytest.raises(OutreachInvalid, match="not JSON"):
        parse_outreach("{")
    with pytest.raises(OutreachInvalid, match="id must be"):
        parse_outreach({"id": ""})
