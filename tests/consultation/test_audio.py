"""Recorded prompts: which exist, and `flows check` listing those missing per language."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from gateway.cli import cli
from gateway.consultation.audio import (
    find_prompt,
    missing_recording_warnings,
    prompt_recording_warnings,
    recorded_prompts,
)
from gateway.consultation.catalogue import load_catalog
from gateway.consultation.flows_check import WARNING_PRODUCERS, check
from tests.conftest import FIXTURE_FLOWS

STEPS = ["priority", "enough", "satisfaction", "comment", "age_band"]


def water():
    return load_catalog([FIXTURE_FLOWS]).get("water-test")


def record(flows: Path, language: str, *names: str) -> None:
    folder = flows / "audio" / "water-test" / language
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"audio")


def test_no_audio_folder_means_text_to_speech_and_no_warning() -> None:
    assert missing_recording_warnings(water(), None) == []
    assert prompt_recording_warnings(water()) == []  # the fixture has no audio folder
    assert prompt_recording_warnings in WARNING_PRODUCERS


def test_missing_prompts_are_listed_per_language() -> None:
    recorded = {"en": set(STEPS), "sw": {"priority", "comment", "priority.options"}}
    assert missing_recording_warnings(water(), recorded) == [
        "water-test sw: no recorded prompt for enough, satisfaction, age_band (text-to-speech "
        "reads them; add audio/water-test/sw/<question id>.mp3 or .wav)"
    ]


def test_recordings_that_match_nothing_are_named() -> None:
    recorded = {"en": {*STEPS, "priorty", "comment.options"}, "sw": set(STEPS), "fr": {"x"}}
    assert missing_recording_warnings(water(), recorded) == [
        "water-test en: recording 'priorty' matches no question id (or <question id>.options); "
        "it is not played",
        "water-test: audio/water-test/fr/ is not one of the consultation's languages (en, sw); "
        "its recordings are not played",
    ]


def test_files_on_disk(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    shutil.copytree(FIXTURE_FLOWS, flows)
    record(flows, "en", "priority.mp3", "priority.wav", "enough.wav", "notes.txt")
    base = flows / "audio"
    assert find_prompt(base, "water-test", "en", "priority") == "priority.mp3"  # mp3 first
    assert find_prompt(base, "water-test", "en", "enough") == "enough.wav"
    assert find_prompt(base, "water-test", "en", "notes") is None
    assert find_prompt(base, "water-test", "sw", "priority") is None
    assert recorded_prompts(base, "water-test") == {"en": {"priority", "enough"}}
    assert recorded_prompts(base, "roads-2025") is None


def test_flows_check_lists_prompts_lacking_a_recording(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    shutil.copytree(FIXTURE_FLOWS, flows)
    record(flows, "en", *(f"{q}.mp3" for q in STEPS))
    record(flows, "sw", "priority.wav")
    report = check([flows])
    assert report.errors == []
    assert report.warnings == [  # English is complete
        "water-test sw: no recorded prompt for enough, satisfaction, comment, age_band "
        "(text-to-speech reads them; add audio/water-test/sw/<question id>.mp3 or .wav)"
    ]
    result = CliRunner().invoke(cli, ["flows", "check", str(flows)])
    assert result.exit_code == 0  # a warning, not an error
    assert "warning: water-test sw: no recorded prompt for enough," in result.output
    assert "2 consultations checked: 0 errors, 1 warning" in result.output
