from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from gateway.consultation.flows_check import (
    WARNING_PRODUCERS,
    CheckReport,
    check,
    format_report,
    sms_segment_warnings,
)
from gateway.consultation.model import Consultation
from gateway.consultation.reading import FlowError
from tests.conftest import FIXTURE_FLOWS

REPO = Path(__file__).resolve().parents[2]

FLOW: dict[str, Any] = {
    "id": "roads-2026",
    "title": {"en": "Roads", "sw": "Barabara"},
    "keywords": ["ROADS"],
    "languages": ["en", "sw"],
    "opens": "2026-12-01T00:00:00+03:00",
    "closes": "2027-01-31T23:59:59+03:00",
    "questions": [
        {
            "id": "use",
            "type": "yes_no",
            "prompt": {"en": "Do you use the road?", "sw": "Unatumia barabara?"},
        },
        {
            "id": "fix",
            "type": "yes_no",
            "prompt": {"en": "Should the county fix the road?", "sw": "Barabara irekebishwe?"},
        },
    ],
}


def flow(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(FLOW)
    data.update(changes)
    return data


def write(directory: Path, name: str, data: Any) -> Path:
    path = directory / name
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def with_prompt(en: str, sw: str = "Barabara irekebishwe?") -> dict[str, Any]:
    """FLOW with another prompt for the second question (the first is also in the welcome)."""
    data = flow()
    data["questions"][1]["prompt"] = {"en": en, "sw": sw}
    return data


def test_example_flows_are_clean() -> None:
    report = check([REPO / "ivr_flows"])
    assert report.errors == []
    assert report.warnings == []  # every example SMS fits one segment
    assert [c.id for c in report.consultations] == ["water-2026"]
    assert format_report(report) == "1 consultation checked: ok"


def test_fixture_flows_are_valid() -> None:
    assert check([FIXTURE_FLOWS]).errors == []


def test_a_keyword_that_is_an_answer_is_an_error(tmp_path: Path) -> None:
    data = flow(keywords=["ROADS", "NDIYO"])
    write(tmp_path, "roads.yaml", data)
    report = check([tmp_path])
    assert format_report(report).splitlines() == [
        f"{tmp_path / 'roads.yaml'}: keywords[1]: 'NDIYO' would also be read as an answer to "
        "questions[0] ('use'): 'yes'; a participant texting it would answer that question "
        "while on it, and be read as the keyword anywhere else: change the keyword",
        f"{tmp_path / 'roads.yaml'}: keywords[1]: 'NDIYO' would also be read as an answer to "
        "questions[1] ('fix'): 'yes'; a participant texting it would answer that question "
        "while on it, and be read as the keyword anywhere else: change the keyword",
        "1 consultation checked: 2 errors, 0 warnings",
    ]


def test_short_texts_give_no_warning(tmp_path: Path) -> None:
    write(tmp_path, "roads.yaml", FLOW)
    report = check([tmp_path])
    assert report.ok
    assert report.warnings == []
    assert report.files == (str(tmp_path / "roads.yaml"),)


def test_long_gsm_text_is_reported_with_encoding_and_length(tmp_path: Path) -> None:
    prompt = "Should the county repair the road " + "from the market to the school " * 4 + "?"
    write(tmp_path, "roads.yaml", with_prompt(prompt))
    text = f"{prompt} Reply 1 for Yes or 2 for No."
    assert len(text) > 160
    report = check([tmp_path])
    assert report.warnings == [
        f"roads-2026 en/fix: 2 SMS segments (GSM-7, {len(text)} characters): {text}"
    ]
    assert report.errors == []


def test_extension_characters_show_septets(tmp_path: Path) -> None:
    prompt = "[" * 70 + " fix?"  # 75 characters, 145 septets
    write(tmp_path, "roads.yaml", with_prompt(prompt))
    text = f"{prompt} Reply 1 for Yes or 2 for No."
    [warning] = check([tmp_path]).warnings
    assert warning == (
        f"roads-2026 en/fix: 2 SMS segments (GSM-7, {len(text)} characters, "
        f"{len(text) + 70} septets): {text}"
    )


def test_ucs2_text_names_the_offending_characters(tmp_path: Path) -> None:
    sw = "Je, barabara ya soko irekebishwe kabla ya mvua za mwezi ujao? Ni “muhimu” sana"
    write(tmp_path, "roads.yaml", with_prompt("Fix the road?", sw))
    text = f"{sw} Jibu 1 kwa Ndiyo au 2 kwa Hapana."
    [warning] = check([tmp_path]).warnings
    assert warning == (
        f"roads-2026 sw/fix: 2 SMS segments (UCS-2, {len(text)} characters, "
        f"not in GSM-7: '“' U+201C, '”' U+201D): {text}"
    )


def test_emoji_counts_two_units(tmp_path: Path) -> None:
    prompt = "Should the county fix the road near the market this year? 🚧"
    write(tmp_path, "roads.yaml", with_prompt(prompt))
    text = f"{prompt} Reply 1 for Yes or 2 for No."
    [warning] = check([tmp_path]).warnings
    assert f"(UCS-2, {len(text)} characters, {len(text) + 1} UTF-16 units, " in warning
    assert "not in GSM-7: '🚧' U+1F6A7)" in warning


def test_welcome_and_messages_are_checked_too(tmp_path: Path) -> None:
    long_help = "Help for {title}. " + "Reply with the number of your answer. " * 4
    write(
        tmp_path,
        "roads.yaml",
        flow(messages={"help": {"en": long_help, "sw": "Msaada {title}."}}),
    )
    [warning] = check([tmp_path]).warnings
    assert warning.startswith("roads-2026 en/help: 2 SMS segments (GSM-7, ")


def test_errors_and_warnings_together(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", with_prompt("Fix the road? " * 12))
    write(tmp_path, "b.yaml", flow(id="water", keywords=["Roads"]))
    write(tmp_path, "c.yaml", flow(id="Bad Id", keywords=["BAD"]))
    report = check([tmp_path])
    assert [str(e) for e in report.errors] == [
        f"{tmp_path / 'c.yaml'}: id: expected an id matching [a-z0-9-]+, got text 'Bad Id'",
        f"{tmp_path / 'b.yaml'}: keywords[0]: keyword 'ROADS' is also used by "
        f"{tmp_path / 'a.yaml'} (keywords[0]); keywords are not case-sensitive",
    ]
    # the files without errors of their own are still checked for warnings
    assert [c.id for c in report.consultations] == ["roads-2026", "water"]
    assert len(report.warnings) == 1
    lines = format_report(report).splitlines()
    assert lines[:2] == [str(e) for e in report.errors]
    assert lines[2] == f"warning: {report.warnings[0]}"
    assert lines[3] == "3 consultations checked: 2 errors, 1 warning"
    assert len(lines) == 4


def test_warning_producers_are_pluggable(tmp_path: Path) -> None:
    write(tmp_path, "roads.yaml", FLOW)

    def no_voice_number(consultation: Consultation) -> list[str]:
        return [] if consultation.voice.numbers else [f"{consultation.id}: no voice number"]

    assert sms_segment_warnings in WARNING_PRODUCERS
    report = check([tmp_path], producers=(*WARNING_PRODUCERS, no_voice_number))
    assert report.warnings == ["roads-2026: no voice number"]


def test_an_empty_directory_is_a_warning(tmp_path: Path) -> None:
    report = check([tmp_path])
    assert report.errors == []
    assert report.warnings == [f"no consultation files (*.yaml, *.yml) found in {tmp_path}"]
    assert format_report(report) == (
        f"warning: no consultation files (*.yaml, *.yml) found in {tmp_path}\n"
        "0 consultations checked: 0 errors, 1 warning"
    )


def test_format_report_counts() -> None:
    report = CheckReport(
        errors=[FlowError("a.yaml", "id", "bad"), FlowError("b.yaml", "", "empty")],
        warnings=[],
        consultations=(),
        files=("a.yaml", "b.yaml"),
    )
    assert format_report(report) == (
        "a.yaml: id: bad\nb.yaml: empty\n2 consultations checked: 2 errors, 0 warnings"
    )
