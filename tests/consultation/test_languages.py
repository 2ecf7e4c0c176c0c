"""Which languages CivicLine ships, and a language's settings as the model holds them."""

from __future__ import annotations

from gateway.consultation.languages import (
    COMMAND_NAMES,
    REQUIRED_COMMANDS,
    LanguageSettings,
    is_builtin,
)
from gateway.consultation.messages import BUILTIN


def test_the_built_in_languages_are_those_with_built_in_texts() -> None:
    assert [code for code in ("en", "sw", "fr", "ar", "ki") if is_builtin(code)] == [
        "en",
        "sw",
        "fr",
    ]
    assert all(is_builtin(code) for code in BUILTIN)


def test_required_command_words_are_command_words_and_join_is_optional() -> None:
    assert set(REQUIRED_COMMANDS) < set(COMMAND_NAMES)
    assert set(COMMAND_NAMES) - set(REQUIRED_COMMANDS) == {"join"}


def test_settings_default_to_nothing() -> None:
    settings = LanguageSettings()
    assert (settings.name, settings.yes, settings.no, dict(settings.words)) == ("", (), (), {})
    assert (settings.voice, settings.tts_language) == (None, None)
