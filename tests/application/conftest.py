"""Fixtures for the use cases' tests: a gateway whose consultation offers call-backs."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.settings import Settings
from tests.application.callback_calls import OUR_NUMBER, PUBLIC
from tests.conftest import FIXTURE_FLOWS, GatewayHarness, make_harness


@pytest.fixture
def callback_flows(tmp_path: Path) -> Path:
    flows = tmp_path / "flows"
    flows.mkdir()
    text = (FIXTURE_FLOWS / "water.yaml").read_text(encoding="utf-8")
    old = 'voice:\n  numbers: ["+254700000001"]\n'
    assert old in text
    (flows / "water.yaml").write_text(text.replace(old, old + "  callback: true\n"),
                                      encoding="utf-8")
    return flows


@pytest.fixture
def callback_gateway(settings: Settings, callback_flows: Path) -> GatewayHarness:
    """The test harness on water-test offering call-backs, Twilio calling it at PUBLIC."""
    harness = make_harness(settings.with_overrides(
        flows_dir=callback_flows, public_base_url=PUBLIC, twilio_from_number=OUR_NUMBER))
    harness.client.base_url = PUBLIC
    return harness

from tests.twilio_outbound import twilio_outbound  # noqa: E402, F401 - the fixture
