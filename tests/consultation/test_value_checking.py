"""The shapes every part of a document shares: keys, lists, booleans, texts per language."""

from __future__ import annotations

from tests.consultation.documents import document, dump, errors_of, only_error, question


def test_unknown_key_suggests_the_closest_one() -> None:
    data = document()
    question(0, data)["optoins"] = question(0, data).pop("options")
    errors = errors_of(dump(data))
    assert (
        "flows/water.yaml: questions[0].optoins: unknown key 'optoins' (did you mean "
        "'options'?)" in errors
    )
    assert (
        "flows/water.yaml: questions[0].options: missing (required for choice questions: "
        "2 to 9 options)" in errors
    )


def test_unknown_top_level_key_without_close_match_lists_allowed() -> None:
    message = only_error(document(colour="blue"))
    assert message.startswith("flows/water.yaml: colour: unknown key 'colour'; allowed: id, ")


def test_missing_translation() -> None:
    data = document()
    del question(0, data)["options"][0]["label"]["sw"]
    assert only_error(data) == (
        "flows/water.yaml: questions[0].options[0].label.sw: missing translation for language 'sw'"
    )


def test_extra_language() -> None:
    data = document()
    data["title"]["fr"] = "Enquete"
    assert only_error(data) == (
        "flows/water.yaml: title.fr: language 'fr' is not in languages (en, sw)"
    )


def test_unquoted_comma_in_flow_mapping_is_explained() -> None:
    text = dump(document(title="TITLE")).replace("title: TITLE", "title: {en: Roads, bridges}")
    errors = errors_of(text)
    assert any(
        e.startswith("flows/water.yaml: title.bridges: 'bridges' is not a language") for e in errors
    )
    assert "flows/water.yaml: title.sw: missing translation for language 'sw'" in errors


def test_empty_text() -> None:
    data = document()
    question(1, data)["prompt"]["en"] = "  "
    assert only_error(data) == (
        "flows/water.yaml: questions[1].prompt.en: expected non-empty text, got text '  '"
    )


def test_string_instead_of_list() -> None:
    assert only_error(document(keywords="WATER")) == (
        "flows/water.yaml: keywords: expected a list of words such as [WATER, MAJI], "
        "got text 'WATER'"
    )


def test_int_instead_of_mapping() -> None:
    assert only_error(document(title=5)) == (
        "flows/water.yaml: title: expected a mapping of language to text, e.g. "
        "{en: ..., sw: ...}, got the number 5"
    )


def test_wrong_shapes_are_errors_not_exceptions() -> None:
    data = document(questions={"id": "q"}, voice=["+254700000001"], profile="none")
    errors = errors_of(dump(data))
    assert errors == [
        "flows/water.yaml: voice: expected a mapping with keys numbers, callback, got a list",
        "flows/water.yaml: questions: expected a list of questions, got a mapping",
        "flows/water.yaml: profile: expected a list of questions, got text 'none'",
    ]
    data = document()
    question(0, data)["options"][0] = "water"
    question(0, data)["options"][1]["aliases"] = {"en": "road"}
    question(2, data)["prompt"] = ["Comment?"]
    errors = errors_of(dump(data))
    assert errors == [
        "flows/water.yaml: questions[0].options[0]: expected a mapping with keys id, label, "
        "aliases, got text 'water'",
        "flows/water.yaml: questions[0].options[1].aliases.en: expected a list of words, "
        "got text 'road'",
        "flows/water.yaml: questions[2].prompt: expected a mapping of language to text, "
        "e.g. {en: ..., sw: ...}, got a list",
    ]


def test_booleans_must_be_real_booleans() -> None:
    text = dump(document()).replace("optional: true", "optional: yes")
    assert errors_of(text) == [
        "flows/water.yaml: questions[2].optional: expected true or false, got text 'yes'"
    ]
