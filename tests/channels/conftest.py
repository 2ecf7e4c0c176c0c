"""Fixtures for the channels' tests: consultations with recorded prompts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import FIXTURE_FLOWS


@pytest.fixture
def flows_with_audio(tmp_path: Path) -> Path:
    """The fixture consultations, with an English and a Swahili recording of one prompt."""
    flows = tmp_path / "flows"
    shutil.copytree(FIXTURE_FLOWS, flows)
    english = flows / "audio" / "water-test" / "en"
    english.mkdir(parents=True)
    (english / "priority.mp3").write_bytes(b"ID3\x03\x00fake mp3 bytes")
    swahili = flows / "audio" / "water-test" / "sw"
    swahili.mkdir(parents=True)
    (swahili / "priority.options.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt ")
    (flows / "secret.txt").write_text("not for callers")
    return flows

from tests.twilio_outbound import twilio_outbound  # noqa: E402, F401 - the fixture
