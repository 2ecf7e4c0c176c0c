"""Questions and their options: ids, types, keys per type, options a reply can tell apart."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.consultation.catalogue import parse_consultation
from tests.consultation.documents import document, dump, errors_of, only_error, question


def test_alias_in_undeclared_language() -> None:
    data = document()
    question(0, data)["options"][1]["aliases"] = {"fr": ["routes"]}
    assert only_error(data) == (
        "flows/water.yaml: questions[0].options[1].aliases.fr: "
        "language 'fr' is not in languages (en, sw)"
    )


def test_duplicate_question_ids_across_questions_and_profile() -> None:
    data = document()
    data["profile"][0]["id"] = "priority"
    assert only_error(data) == (
        "flows/water.yaml: profile[0].id: duplicate question id 'priority' (also questions[0].id)"
    )


def test_duplicate_option_ids() -> None:
    data = document()
    question(0, data)["options"][1]["id"] = "water"
    assert only_error(data) == (
        "flows/water.yaml: questions[0].options[1].id: duplicate option id 'water' "
        "(also questions[0].options[0].id)"
    )


def test_more_than_nine_options() -> None:
    data = document()
    question(0, data)["options"] = [
        {"id": f"o{n}", "label": {"en": f"Option {n}", "sw": f"Chaguo {n}"}} for n in range(10)
    ]
    assert only_error(data) == (
        "flows/water.yaml: questions[0].options: too many options: 10; at most 9 "
        "(voice uses one phone key per option)"
    )


def test_fewer_than_two_options() -> None:
    data = document()
    del question(0, data)["options"][1]
    assert only_error(data) == (
        "flows/water.yaml: questions[0].options: a choice question needs at least 2 options, got 1"
    )


def test_options_on_a_non_choice_question() -> None:
    data = document()
    question(1, data)["options"] = question(0, data)["options"]
    assert only_error(data) == (
        "flows/water.yaml: questions[1].options: only choice questions have 'options'; "
        "this one is scale"
    )


def test_bad_question_and_option_id_patterns() -> None:
    data = document()
    question(0, data)["id"] = "Priority-1"
    question(0, data)["options"][0]["id"] = "Water"
    assert errors_of(dump(data)) == [
        "flows/water.yaml: questions[0].id: expected an id matching [a-z0-9_]+, "
        "got text 'Priority-1'",
        "flows/water.yaml: questions[0].options[0].id: expected an id matching [a-z0-9_]+, "
        "got text 'Water'",
    ]


def test_unknown_question_type_lists_allowed_values() -> None:
    data = document()
    question(1, data)["type"] = "rating"
    assert only_error(data) == (
        "flows/water.yaml: questions[1].type: unknown question type text 'rating'; "
        "allowed: choice, yes_no, scale, text"
    )


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0, 5, "questions[1].min: must be at least 1, got 0 (0 is the skip key on the phone)"),
        (1, 10, "questions[1].max: must be at most 9, got 10 (voice takes a single key)"),
        (5, 5, "questions[1].max: must be greater than min (5), got 5"),
        (4, 2, "questions[1].max: must be greater than min (4), got 2"),
        (1.5, 5, "questions[1].min: expected a whole number, got the number 1.5"),
        (None, 5, "questions[1].min: missing (required for scale questions)"),
    ],
)
def test_bad_scale_range(low: Any, high: int, expected: str) -> None:
    data = document()
    question(1, data)["min"] = low
    question(1, data)["max"] = high
    assert only_error(data) == f"flows/water.yaml: {expected}"


def test_text_max_length_range() -> None:
    data = document()
    question(2, data)["max_length"] = 2000
    assert only_error(data) == (
        "flows/water.yaml: questions[2].max_length: must be from 1 to 1600, got 2000"
    )
    question(2, data)["max_length"] = 160
    assert parse_consultation(dump(data), "w.yaml").questions[2].max_length == 160


def test_colliding_labels_and_aliases_within_a_question() -> None:
    data = document()
    question(0, data)["options"][1]["aliases"] = {"sw": ["Bómba!"]}
    assert only_error(data) == (
        "flows/water.yaml: questions[0].options[1].aliases.sw[0]: 'Bómba!' also names option "
        "'water' (questions[0].options[0].aliases.sw[0]); a reply could not tell them apart"
    )
    data = document()
    question(0, data)["options"][1]["label"]["en"] = "WATER POINTS"
    assert only_error(data) == (
        "flows/water.yaml: questions[0].options[1].label.en: 'WATER POINTS' also names option "
        "'water' (questions[0].options[0].label.en); a reply could not tell them apart"
    )


def test_same_word_in_two_languages_is_allowed() -> None:
    data = document()
    question(0, data)["options"][1]["aliases"] = {"en": ["bomba"]}  # sw for option 1
    assert parse_consultation(dump(data), "w.yaml").questions[0].options[1].aliases == {
        "en": ("bomba",)
    }


def test_number_alias_would_be_read_as_an_option_number() -> None:
    data = document()
    question(0, data)["options"][1]["aliases"] = {"en": ["1"]}
    assert only_error(data) == (
        "flows/water.yaml: questions[0].options[1].aliases.en[0]: '1' would be read as "
        "option number 1, not 'roads' (option 2)"
    )
