"""Outreach as the centre would publish it, and participants and contacts to reach, put
straight into a gateway's local store (the sync's and the webhooks' own work is tested
with them)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert

from gateway.privacy import pseudonym
from gateway.store import schema
from gateway.store.outreach import CachedOutreach, OutreachStore

KEY = "test-pseudonym-key-0123456789"  # tests.conftest settings' PSEUDONYM_KEY
CONSULTATION = "water-test"


def definition(**changes: Any) -> dict[str, Any]:
    """An invitation to every participant of water-test, started, open now, all day."""
    now = datetime.now(UTC)
    base: dict[str, Any] = {
        "id": "o-1", "version": 1, "consultation_id": CONSULTATION, "kind": "invitation",
        "audience": {"source": "participants", "participants": "all", "list": None,
                     "languages": None, "regions": None},
        "channels": ["sms"],
        "starts_at": (now - timedelta(days=1)).isoformat(),
        "ends_at": (now + timedelta(days=1)).isoformat(),
        "hours": {"from": "00:00", "to": "23:59:59", "timezone": "UTC"},
        "texts": {"en": "Water survey: text WATER to 40404. Reply STOP to stop.",
                  "sw": "Utafiti wa maji: tuma MAJI kwa 40404. Jibu STOP kuacha."},
        "status": "started",
    }
    audience = changes.pop("audience", {})
    base.update(changes)
    base["audience"] = {**base["audience"], **audience}
    return base


def publish(engine: Engine, *definitions: dict[str, Any], etag: str = '"e1"') -> None:
    OutreachStore(engine).replace(
        [CachedOutreach(d["id"], d["version"], d["consultation_id"], d["status"],
                        json.dumps(d)) for d in definitions],
        etag, datetime.now(UTC))


def participant(engine: Engine, phone: str, language: str = "en", *,
                completed: bool = False, opted_out: bool = False,
                consultation: str = CONSULTATION) -> str:
    """A participant of `consultation`, as the SMS conversation leaves one."""
    who = pseudonym(KEY, phone)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(insert(schema.participants).values(
            pseudonym=who, phone=phone, language=language, opted_out=opted_out,
            created_at=now, updated_at=now))
        conn.execute(insert(schema.sessions).values(
            pseudonym=who, consultation_id=consultation, language=language, position=1,
            invalid_tries=0, completed=completed, started_at=now, updated_at=now))
    return who
