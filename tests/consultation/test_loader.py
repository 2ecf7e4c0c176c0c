from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.consultation.catalogue import load_catalog, load_file, parse_consultation
from gateway.consultation.model import QuestionType, Status
from gateway.consultation.reading import FlowError, FlowsInvalid
from tests.conftest import FIXTURE_FLOWS

REPO = Path(__file__).resolve().parents[2]

BASE: dict[str, Any] = {
    "id": "water-2026",
    "title": {"en": "Water survey", "sw": "Utafiti wa maji"},
    "keywords": ["WATER", "maji"],
    "languages": ["en", "sw"],
    "opens": "2026-12-01T00:00:00+03:00",
    "closes": "2027-01-31T23:59:59+03:00",
    "voice": {"numbers": ["+254700000001"], "callback": True},
    "questions": [
        {
            "id": "priority",
            "type": "choice",
            "prompt": {"en": "Fix first?", "sw": "Kwanza nini?"},
            "options": [
                {
                    "id": "water",
                    "label": {"en": "Water points", "sw": "Vituo vya maji"},
                    "aliases": {"en": ["tap", "kiosk"], "sw": ["bomba"]},
                },
                {"id": "roads", "label": {"en": "Roads", "sw": "Barabara"}},
            ],
        },
        {
            "id": "satisfaction",
            "type": "scale",
            "min": 1,
            "max": 5,
            "prompt": {"en": "Satisfied?", "sw": "Umeridhika?"},
        },
        {
            "id": "comment",
            "type": "text",
            "optional": True,
            "prompt": {"en": "Comment?", "sw": "Maoni?"},
        },
    ],
    "profile": [
        {
            "id": "disability",
            "type": "yes_no",
            "prompt": {"en": "Disability?", "sw": "Ulemavu?"},
        }
    ],
}


def document(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data.update(changes)
    return data


def dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def errors_of(text: str, source: str = "flows/water.yaml") -> list[str]:
    with pytest.raises(FlowsInvalid) as caught:
        parse_consultation(text, source)
    return [str(error) for error in caught.value.errors]


def only_error(data: Any) -> str:
    errors = errors_of(dump(data))
    assert len(errors) == 1, errors
    return errors[0]


def question(index: int, data: dict[str, Any]) -> dict[str, Any]:
    return data["questions"][index]


# --- valid files --------------------------------------------------------------------------


def test_valid_document_builds_the_model() -> None:
    c = parse_consultation(dump(BASE), "flows/water.yaml")
    assert c.id == "water-2026"
    assert c.keywords == ("WATER", "MAJI")
    assert c.languages == ("en", "sw")
    assert c.opens == datetime(2026, 12, 1, tzinfo=timezone(timedelta(hours=3)))
    assert c.voice.numbers == ("+254700000001",)
    assert c.voice.callback is True
    assert [q.id for q in c.steps] == ["priority", "satisfaction", "comment", "disability"]
    priority, satisfaction, comment = c.questions
    assert priority.type is QuestionType.CHOICE
    assert priority.options[0].aliases == {"en": ("tap", "kiosk"), "sw": ("bomba",)}
    assert (satisfaction.min, satisfaction.max) == (1, 5)
    assert comment.optional and comment.max_length == 480
    assert c.profile[0].profile and not c.questions[0].profile
    assert c.embargo is False
    assert c.source == "flows/water.yaml"


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
    c = parse_consultation(text, "age.yaml")
    assert c.languages == ("en", "no")
    options = c.questions[0].options
    assert [o.id for o in options] == ["18_34", "35_59"]
    assert options[0].aliases == {"en": ("yes", "on")}
    assert options[1].aliases == {"no": ("no",)}
    assert c.closes.tzinfo == UTC


def test_datetimes_may_be_iso_strings_or_yaml_timestamps() -> None:
    text = dump(document()).replace(
        "opens: '2026-12-01T00:00:00+03:00'", "opens: 2026-12-01T00:00:00+03:00"
    )
    assert "opens: 2026-12-01T00:00:00+03:00" in text
    c = parse_consultation(text, "w.yaml")
    assert c.opens.utcoffset() == timedelta(hours=3)
    assert parse_consultation(dump(BASE), "w.yaml").closes.utcoffset() == timedelta(hours=3)


def test_phone_numbers_are_stored_in_e164() -> None:
    c = parse_consultation(dump(document(voice={"numbers": ["+254 700 000001"]})), "w.yaml")
    assert c.voice.numbers == ("+254700000001",)
    assert c.voice.callback is False


def test_example_file_loads_and_is_open_today() -> None:
    catalog = load_catalog([REPO / "ivr_flows"])
    c = catalog.get("water-2026")
    assert c is not None
    assert catalog.by_keyword("maji") is c
    assert catalog.by_voice_number("+254700000001") is c
    assert c.languages == ("en", "sw")
    assert c.status(datetime(2026, 11, 27, 12, tzinfo=UTC)) is Status.OPEN
    assert [q.id for q in c.profile] == ["age_band", "gender", "disability"]
    assert [o.id for o in c.profile[0].options] == ["under_18", "18_34", "35_59", "60_plus"]
    assert load_file(REPO / "ivr_flows" / "water-2026.yaml") == c


# --- error messages, one class at a time ------------------------------------------------------


def test_error_str_names_file_path_and_reason() -> None:
    assert str(FlowError("a.yaml", "questions[0].id", "bad")) == "a.yaml: questions[0].id: bad"
    assert str(FlowError("a.yaml", "", "empty")) == "a.yaml: empty"
    exc = FlowsInvalid([FlowError("a.yaml", "id", "x"), FlowError("b.yaml", "", "y")])
    assert str(exc) == "a.yaml: id: x\nb.yaml: y"


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


def test_alias_in_undeclared_language() -> None:
    data = document()
    question(0, data)["options"][1]["aliases"] = {"fr": ["routes"]}
    assert only_error(data) == (
        "flows/water.yaml: questions[0].options[1].aliases.fr: "
        "language 'fr' is not in languages (en, sw)"
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


def test_closes_before_opens() -> None:
    message = only_error(document(closes="2026-11-30T00:00:00+03:00"))
    assert message == (
        "flows/water.yaml: closes: closes (2026-11-30T00:00:00+03:00) must be after opens "
        "(2026-12-01T00:00:00+03:00)"
    )
    # the same instant in another offset is not after opens either
    assert only_error(document(closes="2026-11-30T21:00:00+00:00")) == (
        "flows/water.yaml: closes: closes (2026-11-30T21:00:00+00:00) must be after opens "
        "(2026-12-01T00:00:00+03:00)"
    )


def test_naive_datetime_needs_an_offset() -> None:
    assert only_error(document(opens=datetime(2026, 12, 1))) == (
        "flows/water.yaml: opens: 2026-12-01T00:00:00 needs a UTC offset, "
        "e.g. 2026-12-01T00:00:00+03:00"
    )
    assert only_error(document(closes="2027-01-31T23:59:59")).startswith(
        "flows/water.yaml: closes: 2027-01-31T23:59:59 needs a UTC offset"
    )


def test_bad_datetimes() -> None:
    assert only_error(document(opens="next week")) == (
        "flows/water.yaml: opens: 'next week' is not an ISO 8601 date and time, "
        "e.g. 2026-12-01T00:00:00+03:00"
    )
    text = dump(document(opens="OPENS")).replace("opens: OPENS", "opens: 2026-13-01")
    line = text.splitlines().index("opens: 2026-13-01") + 1
    assert errors_of(text) == [
        f"flows/water.yaml: line {line}, column 8: YAML syntax error: "
        "invalid date '2026-13-01' (month must be in 1..12)"
    ]


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


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            document(id="Water 2026"),
            "id: expected an id matching [a-z0-9-]+, got text 'Water 2026'",
        ),
        (
            document(id=2026),
            "id: expected an id matching [a-z0-9-]+, got the number 2026 "
            "(put it in quotes to make it text)",
        ),
        (
            document(languages=["en", "SW"]),
            "languages[1]: expected a lower-case language code "
            "of 2 or 3 letters (en, sw, kik), got text 'SW'",
        ),
        (
            document(languages=["en", "en"]),
            "languages[1]: duplicate language 'en' (also languages[0])",
        ),
        (
            document(languages=[]),
            "languages: needs at least one language (the first is the default)",
        ),
        (
            document(keywords=["WATER", "Water"]),
            "keywords[1]: duplicate keyword 'WATER' (also keywords[0])",
        ),
        (
            document(keywords=["JOIN WATER"]),
            "keywords[0]: expected one word of letters and digits, got text 'JOIN WATER'",
        ),
        (
            document(keywords=["2026"]),
            "keywords[0]: '2026' needs a letter: a number would be read as an answer",
        ),
        (document(embargo="yes"), "embargo: expected true or false, got text 'yes'"),
    ],
)
def test_bad_top_level_values(data: dict[str, Any], expected: str) -> None:
    assert only_error(data) == f"flows/water.yaml: {expected}"


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


@pytest.mark.parametrize("word", ["STOP", "help", "Join", "skip"])
def test_reserved_keyword(word: str) -> None:
    assert only_error(document(keywords=["WATER", word])) == (
        f"flows/water.yaml: keywords[1]: {word!r} is a reserved command word"
    )


@pytest.mark.parametrize("word", ["JIUNGE", "msaada", "Sitisha"])
def test_local_language_command_words_are_reserved(word: str) -> None:
    assert only_error(document(keywords=["WATER", word])) == (
        f"flows/water.yaml: keywords[1]: {word!r} is a reserved command word"
    )


def test_unknown_question_type_lists_allowed_values() -> None:
    data = document()
    question(1, data)["type"] = "rating"
    assert only_error(data) == (
        "flows/water.yaml: questions[1].type: unknown question type text 'rating'; "
        "allowed: choice, yes_no, scale, text"
    )


def test_booleans_must_be_real_booleans() -> None:
    text = dump(document()).replace("optional: true", "optional: yes")
    assert errors_of(text) == [
        "flows/water.yaml: questions[2].optional: expected true or false, got text 'yes'"
    ]


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


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("+25470000", "'+25470000' is not a valid phone number"),
        (
            "+2547",
            "'+2547' is not a phone number: The string supplied is too short to be a phone number",
        ),
        ("0700000001", "'0700000001' must be in E.164 form: + and the country code"),
        ("+254 hello", "'+254 hello' is not a valid phone number"),
        ("call us", "'call us' must be in E.164 form: + and the country code"),
        (True, "expected an E.164 phone number, got the boolean true"),
    ],
)
def test_bad_phone_number(number: object, expected: str) -> None:
    data = document(voice={"numbers": ["+254700000002", number]})
    assert only_error(data) == f"flows/water.yaml: voice.numbers[1]: {expected}"


def test_unquoted_phone_number_is_explained() -> None:
    text = dump(document()).replace("- '+254700000001'", "- +254700000001")
    assert errors_of(text) == [
        "flows/water.yaml: voice.numbers[0]: write phone numbers as quoted text, e.g. "
        '"+254700000001" (unquoted, YAML reads a number and drops the +)'
    ]


def test_duplicate_phone_number_in_one_file() -> None:
    data = document(voice={"numbers": ["+254700000001", "+254 700 000 001"]})
    assert only_error(data) == (
        "flows/water.yaml: voice.numbers[1]: duplicate number +254700000001 (also voice.numbers[0])"
    )


@pytest.mark.parametrize(
    ("name", "template", "expected"),
    [
        (
            "thanks",
            "Thanks, {name}!",
            "unknown placeholder {name}; 'thanks' may use {title}",
        ),
        (
            "welcome",
            "{title}: {count} questions, {keyword}",
            "unknown placeholder {keyword}; 'welcome' may use {count}, {title}",
        ),
        (
            "help",
            "Help for {title",
            "malformed braces (expected '}' before end of string); write {{ or }} for a "
            "literal brace",
        ),
        (
            "invalid",
            "Sorry. {}",
            "placeholders must be named (Replacement index 0 out of range for positional "
            "args tuple); 'invalid' may use {hint}, {title}",
        ),
    ],
)
def test_bad_message_placeholder(name: str, template: str, expected: str) -> None:
    data = document(messages={name: {"en": template, "sw": "Sawa {title}"}})
    assert only_error(data) == f"flows/water.yaml: messages.{name}.en: {expected}"


def test_valid_message_override() -> None:
    texts = {"en": "{title}: {count} questions.", "sw": "{title}: maswali {count}."}
    c = parse_consultation(dump(document(messages={"welcome": texts})), "w.yaml")
    assert c.message("welcome", "sw", count=3) == "Utafiti wa maji: maswali 3."


def test_only_some_messages_can_be_overridden() -> None:
    data = document(messages={"upcoming": {"en": "Soon", "sw": "Hivi karibuni"}})
    assert only_error(data) == (
        "flows/water.yaml: messages.upcoming: 'upcoming' cannot be overridden; overridable: "
        "welcome, help, thanks, closed, invalid"
    )
    data = document(messages={"thank": {"en": "Thanks", "sw": "Asante"}})
    assert only_error(data) == (
        "flows/water.yaml: messages.thank: unknown key 'thank' (did you mean 'thanks'?)"
    )


def test_language_without_builtin_texts_must_override_them() -> None:
    data = document(languages=["en", "ki"])
    for item in [data["title"], *(q["prompt"] for q in data["questions"] + data["profile"])]:
        item["ki"] = item.pop("sw")
    for option in question(0, data)["options"]:
        option["label"]["ki"] = option["label"].pop("sw")
        option.pop("aliases", None)
    errors = errors_of(dump(data))
    assert errors == [
        f"flows/water.yaml: messages.{name}: language 'ki' has no built-in {name!r} text: "
        f"add messages.{name}.ki"
        for name in ("welcome", "help", "thanks", "closed", "invalid")
    ]
    data["messages"] = {
        name: {"en": "{title}", "ki": "{title}"}
        for name in ("welcome", "help", "thanks", "closed", "invalid")
    }
    c = parse_consultation(dump(data), "w.yaml")
    assert c.message("thanks", "ki") == "Utafiti wa maji"  # title.ki was moved from sw
    assert c.message("hint_skip", "ki") == "Reply SKIP to skip."  # English fallback


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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "",
            "flows/water.yaml: the file is empty; expected a consultation (id, title, "
            "keywords, ...)",
        ),
        (
            "- id: water\n",
            "flows/water.yaml: expected a mapping with keys id, title, keywords, "
            "languages, opens, closes, voice, messages, questions, profile, embargo, got a list",
        ),
    ],
)
def test_whole_file_errors_have_no_path(text: str, expected: str) -> None:
    assert errors_of(text) == [expected]


def test_missing_required_keys() -> None:
    assert errors_of("embargo: true\n") == [
        f"flows/water.yaml: {key}: missing (required)"
        for key in ("id", "languages", "title", "keywords", "opens", "closes", "questions")
    ]


def test_all_errors_of_a_file_are_reported() -> None:
    data = document(id="Bad Id", keywords=["STOP"], closes="2026-01-01T00:00:00+03:00")
    question(0, data)["typo"] = 1
    question(1, data)["max"] = 12
    del question(2, data)["prompt"]["sw"]
    data["voice"]["numbers"] = ["+1"]
    errors = errors_of(dump(data))
    assert errors == [
        "flows/water.yaml: id: expected an id matching [a-z0-9-]+, got text 'Bad Id'",
        "flows/water.yaml: keywords[0]: 'STOP' is a reserved command word",
        "flows/water.yaml: closes: closes (2026-01-01T00:00:00+03:00) must be after opens "
        "(2026-12-01T00:00:00+03:00)",
        "flows/water.yaml: voice.numbers[0]: '+1' is not a phone number: The string supplied "
        "did not seem to be a phone number",
        "flows/water.yaml: questions[0].typo: unknown key 'typo' (did you mean 'type'?)",
        "flows/water.yaml: questions[1].max: must be at most 9, got 12 (voice takes a single key)",
        "flows/water.yaml: questions[2].prompt.sw: missing translation for language 'sw'",
    ]


# --- catalogs ---------------------------------------------------------------------------------


def write(directory: Path, name: str, data: Any) -> Path:
    path = directory / name
    path.write_text(dump(data), encoding="utf-8")
    return path


def other(**changes: Any) -> dict[str, Any]:
    base = {
        "id": "roads-2026",
        "keywords": ["STREETS"],  # not ROADS: that is a label
        "voice": {"numbers": ["+254700000002"]},
    }
    base.update(changes)
    return document(**base)


def catalog_errors(paths: list[Path]) -> list[str]:
    with pytest.raises(FlowsInvalid) as caught:
        load_catalog(paths)
    return [str(error) for error in caught.value.errors]


def test_catalog_reads_yaml_files_of_a_directory_sorted(tmp_path: Path) -> None:
    write(tmp_path, "b.yml", other())
    write(tmp_path, "a.yaml", BASE)
    (tmp_path / "notes.txt").write_text("not a flow")
    audio = tmp_path / "audio" / "water-2026" / "en"
    audio.mkdir(parents=True)
    (audio / "priority.yaml").write_text("broken: [")
    catalog = load_catalog([tmp_path])
    assert [c.id for c in catalog.consultations] == ["water-2026", "roads-2026"]
    assert catalog.by_keyword("streets").id == "roads-2026"  # type: ignore[union-attr]
    assert catalog.consultations[1].source == str(tmp_path / "b.yml")


def test_catalog_accepts_files_and_reads_each_once(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", BASE)
    catalog = load_catalog([path, tmp_path])
    assert [c.id for c in catalog.consultations] == ["water-2026"]


def test_catalog_reports_missing_paths(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    assert catalog_errors([missing]) == [f"{missing}: no such file or directory"]


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", BASE)
    write(tmp_path, "b.yaml", other(id="water-2026"))
    assert catalog_errors([tmp_path]) == [
        f"{tmp_path / 'b.yaml'}: id: consultation id 'water-2026' is also used by "
        f"{tmp_path / 'a.yaml'}"
    ]


def test_duplicate_keywords_across_files_ignore_case(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", BASE)
    write(tmp_path, "b.yaml", other(keywords=["streets", "Maji"]))
    assert catalog_errors([tmp_path]) == [
        f"{tmp_path / 'b.yaml'}: keywords[1]: keyword 'MAJI' is also used by "
        f"{tmp_path / 'a.yaml'} (keywords[1]); keywords are not case-sensitive"
    ]


def test_same_voice_number_in_two_files(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", BASE)
    write(tmp_path, "b.yaml", other(voice={"numbers": ["+254 700 000 001"]}))
    assert catalog_errors([tmp_path]) == [
        f"{tmp_path / 'b.yaml'}: voice.numbers[0]: voice number +254700000001 is also used by "
        f"{tmp_path / 'a.yaml'} (voice.numbers[0])"
    ]


def test_catalog_collects_errors_of_every_file(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", document(embargo="no"))
    write(tmp_path, "b.yaml", other(id="water-2026", title={"en": "Roads"}))
    (tmp_path / "c.yaml").write_text("id: [\n")
    errors = catalog_errors([tmp_path])
    assert errors[0] == f"{tmp_path / 'a.yaml'}: embargo: expected true or false, got text 'no'"
    assert errors[1] == f"{tmp_path / 'b.yaml'}: title.sw: missing translation for language 'sw'"
    assert errors[2].startswith(f"{tmp_path / 'c.yaml'}: line 2, column 1: YAML syntax error")
    # cross-file checks still see the id of a file that has other errors
    assert errors[3] == (
        f"{tmp_path / 'b.yaml'}: id: consultation id 'water-2026' is also used by "
        f"{tmp_path / 'a.yaml'}"
    )
    assert len(errors) == 4


def test_load_file_raises_for_an_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("title: caf\xe9\n".encode("latin-1"))
    with pytest.raises(FlowsInvalid) as caught:
        load_file(path)
    assert str(caught.value) == f"{path}: not UTF-8 text (invalid continuation byte at byte 10)"


def test_keywords_per_language(tmp_path: Path) -> None:
    text = (FIXTURE_FLOWS / "water.yaml").read_text(encoding="utf-8").replace(
        "keywords: [WATER, MAJI]", "keywords: {en: [WATER], sw: [MAJI, Maji2]}"
    )
    consultation = parse_consultation(text, "water.yaml")
    assert consultation.keywords == ("WATER", "MAJI", "MAJI2")
    assert consultation.keyword_languages == {"WATER": "en", "MAJI": "sw", "MAJI2": "sw"}


def test_keywords_under_an_undeclared_language(tmp_path: Path) -> None:
    text = (FIXTURE_FLOWS / "water.yaml").read_text(encoding="utf-8").replace(
        "keywords: [WATER, MAJI]", "keywords: {en: [WATER], fr: [EAU]}"
    )
    with pytest.raises(FlowsInvalid) as caught:
        parse_consultation(text, "water.yaml")
    assert "water.yaml: keywords.fr: 'fr' is not one of the languages" in str(caught.value)
