"""One document's top level: id, languages, keywords, dates, voice numbers, messages."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from gateway.consultation.catalogue import parse_consultation
from gateway.consultation.model import QuestionType
from gateway.consultation.reading import FlowsInvalid
from tests.conftest import FIXTURE_FLOWS
from tests.consultation.documents import BASE, document, dump, errors_of, only_error, question


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


# --- the whole file ----------------------------------------------------------------------


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
            "languages, opens, closes, voice, messages, questions, profile, embargo, "
            "timezone, invitation, reminder, results, got a list",
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


# --- ids, languages, keywords ---------------------------------------------------------------


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


# --- dates --------------------------------------------------------------------------------


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


# --- voice numbers --------------------------------------------------------------------------


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


# --- messages -----------------------------------------------------------------------------


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
