"""Rules for definitions being written: a keyword may not also be an answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.consultation.catalogue import load_file, parse_consultation
from gateway.consultation.reading import FlowsInvalid
from tests.consultation.documents import catalog_errors, document, dump, question, write


def authoring_errors(data: Any) -> list[str]:
    """The errors of `data` as `flows check` and publishing see it."""
    with pytest.raises(FlowsInvalid) as caught:
        parse_consultation(dump(data), "flows/water.yaml", authoring=True)
    return [str(error) for error in caught.value.errors]


TWO_MEANINGS = ("a participant texting it would answer this question while on it, and be "
                "read as the keyword anywhere else")
THAT_QUESTION = TWO_MEANINGS.replace("this question", "that question")


def test_a_keyword_that_is_an_alias_or_a_label_is_an_error() -> None:
    """Texting WATER on the first question recorded "Water points" instead of being read
    as the keyword: one word cannot be both."""
    data = document()
    question(0, data)["options"][0]["aliases"] = {"en": ["tap", "Water"], "sw": ["máji"]}
    question(0, data)["options"][1]["label"]["sw"] = "Streets"
    data["keywords"] = ["WATER", "maji", "STREETS"]
    assert authoring_errors(data) == [
        f"flows/water.yaml: questions[0].options[0].aliases.en[1]: 'Water' is also the "
        f"keyword WATER; {TWO_MEANINGS}: remove the alias or change the keyword",
        f"flows/water.yaml: questions[0].options[0].aliases.sw[0]: 'máji' is also the "
        f"keyword MAJI; {TWO_MEANINGS}: remove the alias or change the keyword",
        f"flows/water.yaml: questions[0].options[1].label.sw: 'Streets' is also the keyword "
        f"STREETS; {TWO_MEANINGS}: reword the label or change the keyword",
    ]


def test_a_keyword_that_is_a_label_in_the_profile_is_an_error() -> None:
    data = document(keywords=["WATER", "ROADS"])
    data["profile"].append({
        "id": "transport", "type": "choice", "prompt": {"en": "How?", "sw": "Vipi?"},
        "options": [{"id": "walk", "label": {"en": "Walk", "sw": "Kutembea"}},
                    {"id": "roads", "label": {"en": "Bus", "sw": "Roads"}}],
    })
    assert authoring_errors(data) == [
        f"flows/water.yaml: questions[0].options[1].label.en: 'Roads' is also the keyword "
        f"ROADS; {TWO_MEANINGS}: reword the label or change the keyword",
        f"flows/water.yaml: profile[1].options[1].label.sw: 'Roads' is also the keyword "
        f"ROADS; {TWO_MEANINGS}: reword the label or change the keyword",
    ]


def test_a_keyword_read_as_another_answer_is_an_error() -> None:
    """Number words, option letters and yes/no words are answers too."""
    data = document(keywords=["WATER", "MOJA", "SAWA", "TANO"])
    assert authoring_errors(data) == [
        "flows/water.yaml: keywords[1]: 'MOJA' would also be read as an answer to "
        "questions[0] ('priority'): option 1, 'Water points'; "
        f"{THAT_QUESTION}: change the keyword",
        "flows/water.yaml: keywords[1]: 'MOJA' would also be read as an answer to "
        f"questions[1] ('satisfaction'): '1'; {THAT_QUESTION}: change the keyword",
        "flows/water.yaml: keywords[3]: 'TANO' would also be read as an answer to "
        f"questions[1] ('satisfaction'): '5'; {THAT_QUESTION}: change the keyword",
        "flows/water.yaml: keywords[1]: 'MOJA' would also be read as an answer to "
        f"profile[0] ('disability'): 'yes'; {THAT_QUESTION}: change the keyword",
        "flows/water.yaml: keywords[2]: 'SAWA' would also be read as an answer to "
        f"profile[0] ('disability'): 'yes'; {THAT_QUESTION}: change the keyword",
    ]


def test_stored_definitions_are_read_without_the_keyword_rule(tmp_path: Path) -> None:
    """A consultation published before the rule can still be read, tallied and
    re-published with a fix; files are always checked."""
    data = document()
    question(0, data)["options"][0]["aliases"] = {"en": ["water"]}
    consultation = parse_consultation(dump(data), "published consultation water-2026")
    assert consultation.questions[0].options[0].aliases == {"en": ("water",)}
    path = write(tmp_path, "water.yaml", data)
    expected = (f"{path}: questions[0].options[0].aliases.en[0]: 'water' is also the keyword "
                f"WATER; {TWO_MEANINGS}: remove the alias or change the keyword")
    assert catalog_errors([tmp_path]) == [expected]
    with pytest.raises(FlowsInvalid, match="'water' is also the keyword WATER"):
        load_file(path)
