"""`civicline outbox` and `civicline simulate outreach`: without Twilio credentials the
sandbox records what outreach would send, and a newcomer sees it arrive."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from gateway.application.services import open_local_store
from gateway.cli import cli
from gateway.settings import Settings
from gateway.store.outbound import OutboundStore
from tests.application.outreach_world import KEY, definition, participant, publish
from tests.conftest import FIXTURE_FLOWS, TEST_TOKEN

INVITED = "+254711000001"


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    values = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'g.db'}",
        "CENTRAL_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}",
        "FLOWS_DIR": str(FIXTURE_FLOWS),
        "PSEUDONYM_KEY": KEY,
        "TWILIO_AUTH_TOKEN": TEST_TOKEN,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    for name in ("REDIS_URL", "TWILIO_ACCOUNT_SID", "TWILIO_FROM_NUMBER", "PUBLIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    engine = open_local_store(Settings.from_env()).engine
    yield engine
    engine.dispose()


def test_an_invitation_arrives_in_the_sandbox_for_that_number(engine: Engine) -> None:
    participant(engine, INVITED, "sw")
    participant(engine, "+254711000002", "en")
    publish(engine, definition())
    result = CliRunner().invoke(cli, ["simulate", "outreach", "--to", INVITED])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"< SMS from outreach o-1: {definition()['texts']['sw']}"
    rows = OutboundStore(engine)
    assert rows.counts("o-1")["sent"] == 2
    assert all(row.provider_sid and row.provider_sid.startswith("SB")
               for row, _ in rows.sandbox_messages())
    again = CliRunner().invoke(cli, ["simulate", "outreach", "--to", INVITED])
    assert again.output.count("< SMS") == 1  # not sent twice


def test_the_outbox_lists_what_was_sent_with_numbers_masked(engine: Engine) -> None:
    participant(engine, INVITED, "en")
    publish(engine, definition())
    empty = CliRunner().invoke(cli, ["outbox"])
    assert "the sandbox outbox is empty" in empty.output
    result = CliRunner().invoke(cli, ["outbox", "--send"])
    assert result.exit_code == 0, result.output
    assert "'sent': 1" in result.output
    assert "o-1 sms to +*********001 (en, sent): Water survey" in result.output
    assert INVITED not in result.output
    other = CliRunner().invoke(cli, ["outbox", "--to", "+254711000009"])
    assert "the sandbox outbox is empty" in other.output
    bad = CliRunner().invoke(cli, ["outbox", "--to", "hello"])
    assert bad.exit_code == 2 and "not a phone number" in bad.output


def test_nothing_arrives_from_an_outreach_not_started(engine: Engine) -> None:
    participant(engine, INVITED, "en")
    publish(engine, definition(status="draft"))
    result = CliRunner().invoke(cli, ["simulate", "outreach", "--to", INVITED])
    assert result.output.strip() == "(nothing arrived for this number)"
