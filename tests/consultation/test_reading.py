"""Reading a consultation file: YAML as officials write it, errors with a line, UTF-8."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import pytest

from gateway.consultation.catalogue import load_file, parse_consultation
from gateway.consultation.reading import FlowError, FlowsInvalid
from tests.consultation.documents import BASE, document, dump, errors_of, unseen_language


def test_error_str_names_file_path_and_reason() -> None:
    assert str(FlowError("a.yaml", "questions[0].id", "bad")) == "a.yaml: questions[0].id: bad"
    assert str(FlowError("a.yaml", "", "empty")) == "a.yaml: empty"
    exc = FlowsInvalid([FlowError("a.yaml", "id", "x"), FlowError("b.yaml", "", "y")])
    assert str(exc) == "a.yaml: id: x\nb.yaml: y"


def test_yaml_1_1_surprises_stay_text() -> None:
    """`18_34` is not the number 1834, `no` (Norwegian) and `yes` are not booleans."""
    text = """
id: age
title: {en: Age, no: Alder}
keywords: [AGE]
languages: [en, no]
opens: 2026-12-01T00:00:00+03:00
closes: 2027-01-31T23:59:59Z
messages:
  welcome: {en: "{title}", no: "{title}"}
  help: {en: Help, no: Hjelp}
  thanks: {en: Thanks, no: Takk}
  closed: {en: Closed, no: Stengt}
  invalid: {en: "{hint}", no: "{hint}"}
questions:
  - id: age_band
    type: choice
    optional: true
    prompt: {en: Age, no: Alder}
    options:
      - {id: 18_34, label: {en: 18 to 34, no: 18 til 34}, aliases: {en: [yes, on]}}
      - {id: 35_59, label: {en: 35 to 59, no: 35 til 59}, aliases: {no: [no]}}
"""
    rest = unseen_language("no")  # every other text, and the language's settings
    del rest["messages"]["welcome"], rest["messages"]["help"], rest["messages"]["thanks"]
    del rest["messages"]["closed"], rest["messages"]["invalid"]
    text = text.replace("messages:\n", "messages:\n" + "".join(
        f"  {name}: {{no: \"{{title}}\"}}\n" for name in rest["messages"]
    ))
    text += "language_settings: {no: {name: Norsk, yes: [ja], no: [nei], voice: Polly.Liv, "
    text += "tts_language: nb-NO, words: {stop: [stopp], start: [start], help: [hjelp], "
    text += "skip: [hopp], lang: [sprak]}}}\n"
    c = parse_consultation(text, "age.yaml")
    assert c.languages == ("en", "no")
    assert c.language_settings["no"].no == ("nei",)
    options = c.questions[0].options
    assert [o.id for o in options] == ["18_34", "35_59"]
    assert options[0].aliases == {"en": ("yes", "on")}
    assert options[1].aliases == {"no": ("no",)}
    assert c.closes.tzinfo == UTC


def test_yaml_syntax_error_has_line_and_column() -> None:
    text = "id: water\ntitle: {en: Water\nkeywords: [WATER]\n"
    [message] = errors_of(text)
    assert message.startswith("flows/water.yaml: line 3, column 9: YAML syntax error:")


def test_unquoted_question_mark_in_flow_mapping_is_explained() -> None:
    text = dump(document(title="T")).replace("title: T", "title: {en: Why?, sw: Kwa nini?}")
    [message] = errors_of(text)
    assert message.startswith("flows/water.yaml: line 2, column 16: YAML syntax error:")
    assert 'quote text that contains ? : , { } [ ] (e.g. {en: "Your age?"})' in message


def test_duplicate_yaml_key() -> None:
    text = dump(BASE) + "id: water-2027\n"
    line = text.count("\n")
    assert errors_of(text) == [
        f"flows/water.yaml: line {line}, column 1: duplicate key 'id' (only the last one "
        "would count)"
    ]


def test_load_file_raises_for_an_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("title: caf\xe9\n".encode("latin-1"))
    with pytest.raises(FlowsInvalid) as caught:
        load_file(path)
    assert str(caught.value) == f"{path}: not UTF-8 text (invalid continuation byte at byte 10)"
