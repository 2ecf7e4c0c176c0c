"""`civicline callbacks place`: the sweep that places due call-backs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.app import build_services
from gateway.cli import cli
from gateway.privacy import pseudonym
from gateway.settings import Settings
from gateway.store.calls import CallsTx
from tests.conftest import FIXTURE_FLOWS, RecordingScheduler, RecordingTrigger


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    values = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'g.db'}",
        "CENTRAL_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}",
        "FLOWS_DIR": str(FIXTURE_FLOWS),
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    for name in ("REDIS_URL", "TWILIO_ACCOUNT_SID", "TWILIO_FROM_NUMBER", "PUBLIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return Settings.from_env()


def test_sweep_with_nothing_due(env: Settings) -> None:
    result = CliRunner().invoke(cli, ["callbacks", "place"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("0 call-backs placed")


def test_sweep_says_what_is_missing_to_place_a_due_call_back(env: Settings) -> None:
    services = build_services(env, trigger=RecordingTrigger(), callbacks=RecordingScheduler())
    now = datetime.now(UTC)
    with services.store.participant(pseudonym("k", "+254712345678"), "+254712345678", now) as tx:
        CallsTx(tx).request_callback("+254712345678", "water-test", now)
    result = CliRunner().invoke(cli, ["callbacks", "place"])
    assert result.exit_code == 1
    assert "call-backs need TWILIO_ACCOUNT_SID" in result.output
