"""`civicline simulate sms` texts a live gateway on loopback as Twilio would post it."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from gateway.cli import cli
from gateway.settings import Settings
from gateway.store import schema
from tests.conftest import TEST_TOKEN, GatewayHarness, make_harness
from tests.live import LiveServer


@pytest.fixture
def live(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, GatewayHarness]]:
    gateway = make_harness(settings)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TEST_TOKEN)
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.delenv("TWILIO_ACCOUNT_SID", raising=False)
    with LiveServer(gateway.client.client.application) as server:
        yield server.url, gateway


def test_simulated_messages_carry_real_shaped_ids(live: tuple[str, GatewayHarness]) -> None:
    url, gateway = live
    result = CliRunner().invoke(
        cli, ["simulate", "sms", "--from", "+254712345678", "--url", url, "WATER", "2"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "> WATER" and lines[1].startswith("< Water services:")
    assert lines[2] == "> 2"
    with gateway.services.store.engine.connect() as conn:
        ids = conn.execute(select(schema.inbound.c.provider_id)).scalars().all()
        answer = conn.execute(select(schema.events.c.question_id, schema.events.c.value)).one()
    assert len(ids) == 2 and len(set(ids)) == 2
    assert all(re.fullmatch(r"SM[0-9a-f]{32}", sid) for sid in ids), ids
    assert tuple(answer) == ("priority", "roads")


def test_the_simulator_says_when_and_why_a_reply_was_held_back(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway = make_harness(settings.with_overrides(replies_per_hour=1))
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TEST_TOKEN)
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.delenv("TWILIO_ACCOUNT_SID", raising=False)
    with LiveServer(gateway.client.client.application) as server:
        result = CliRunner().invoke(
            cli,
            ["simulate", "sms", "--from", "+254712345678", "--url", server.url, "WATER", "2",
             "STOP", "1"],
        )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[3] == (
        "(no reply, held back: reply cap: this number was sent 1 reply in the last hour "
        "(REPLIES_PER_HOUR=1))"
    )
    assert lines[5].startswith("< You will get no more messages.")
    assert lines[7] == (
        "(no reply, held back: this number has opted out (STOP); START opts in again)"
    )
