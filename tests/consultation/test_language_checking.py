"""`language_settings` checked, and every text and setting a language CivicLine does not
ship must give, each missing one named."""

from __future__ import annotations

import pytest

from gateway.consultation.catalogue import parse_consultation
from gateway.consultation.language_checking import is_word
from gateway.consultation.reading import read_yaml
from tests.conftest import UNSEEN_LANGUAGE_FLOWS
from tests.consultation.documents import document, dump, only_error

ARABIC = UNSEEN_LANGUAGE_FLOWS / "water-ar.yaml"


@pytest.mark.parametrize("word", ["WATER", "ماء", "मदद", "नमस्ते", "Ndiyo", "ARRÊT", "WATER2"])
def test_one_word_in_any_script(word: str) -> None:
    assert is_word(word)


@pytest.mark.parametrize("word", ["", "two words", "new-roads", "_x", "ماء!", "\u0301a"])
def test_not_one_word(word: str) -> None:
    assert not is_word(word)


def arabic() -> dict:
    """The file as the gateway reads it (YAML 1.2: `yes` and `no` stay words)."""
    parsed, data = read_yaml(ARABIC.read_text(encoding="utf-8"), pytest.fail)
    assert parsed
    return data


def test_the_arabic_consultation_is_complete() -> None:
    c = parse_consultation(ARABIC.read_text(encoding="utf-8"), str(ARABIC))
    assert c.keywords == ("ماء", "WELL")
    assert c.keyword_languages == {"ماء": "ar", "WELL": "en"}
    own = c.language_settings["ar"]
    assert (own.name, own.yes, own.no) == ("العربية", ("نعم", "أجل", "ايوه"), ("لا", "كلا"))
    assert own.words["skip"] == ("تخطي",)
    assert (own.voice, own.tts_language) == ("Polly.Zeina", "arb")
    assert c.message("hint_yes_no", "ar") == "أجب 1 لنعم أو 2 للا."
    assert c.message("hint_yes_no", "en") == "Reply 1 for Yes or 2 for No."  # built in


def test_a_missing_text_names_what_to_add() -> None:
    data = arabic()
    del data["messages"]["hint_yes_no"]
    assert only_error(data) == (
        "flows/water.yaml: messages.hint_yes_no: language 'ar' has no built-in 'hint_yes_no' "
        "text: add messages.hint_yes_no.ar"
    )


@pytest.mark.parametrize(
    ("key", "what"),
    [
        ("yes", "the words that answer yes, e.g. [نعم]"),
        ("voice", "a Twilio text-to-speech voice for it, e.g. Polly.Zeina"),
        ("name", "the language's own name, as its speakers write it (LANG takes it)"),
    ],
)
def test_a_missing_setting_names_what_to_add(key: str, what: str) -> None:
    data = arabic()
    del data["language_settings"]["ar"][key]
    assert only_error(data) == (
        f"flows/water.yaml: language_settings.ar.{key}: language 'ar' is not built in: "
        f"add language_settings.ar.{key}, {what}"
    )


def test_settings_of_a_built_in_language_are_optional_additions() -> None:
    data = document(language_settings={"sw": {"yes": ["naam"], "voice": "Google.sw-X"}})
    c = parse_consultation(dump(data), "w.yaml")
    assert c.language_settings["sw"].yes == ("naam",)
    assert c.language_settings["sw"].name == ""


@pytest.mark.parametrize(
    ("settings", "error"),
    [
        ({"fr": {"name": "Français"}}, "language_settings.fr: unknown key 'fr'"),
        ({"sw": {"colour": "blue"}}, "language_settings.sw.colour: unknown key 'colour'"),
        (
            {"sw": {"words": {"skip": ["ruka sasa"]}}},
            "language_settings.sw.words.skip[0]: expected one word of letters and digits, "
            "got 'ruka sasa'",
        ),
        ({"sw": {"voice": 7}}, "language_settings.sw.voice: expected non-empty text, got"),
    ],
)
def test_malformed_settings(settings: dict, error: str) -> None:
    message = only_error(document(language_settings=settings))
    assert message.startswith(f"flows/water.yaml: {error}"), message


def test_an_arabic_keyword_is_a_keyword() -> None:
    """It used to be refused: "expected one word of letters and digits"."""
    c = parse_consultation(dump(document(keywords=["WATER", "ماء"])), "w.yaml")
    assert "ماء" in c.keywords


@pytest.mark.parametrize(
    ("words", "error"),
    [
        (
            {"stop": ["لا"]},
            "language_settings.ar.words.stop[0]: 'لا' is also a 'no' word: "
            "a command word must not be an answer",
        ),
        (
            {"help": ["STOP"]},
            "language_settings.ar.words.help[0]: 'STOP' is already the "
            "command word for STOP: choose another word",
        ),
    ],
)
def test_a_command_word_has_one_meaning(words: dict, error: str) -> None:
    data = arabic()
    data["language_settings"]["ar"]["words"].update(words)
    assert only_error(data) == f"flows/water.yaml: {error}"
