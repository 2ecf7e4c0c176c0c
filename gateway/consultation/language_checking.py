"""Checking `language_settings` and that every consultation language has what a
participant meets: texts, yes/no words, command words, its own name and a voice.

A language CivicLine ships (en, sw, fr) has all of it built in, and its settings are
optional additions. Any other language must give all of it; each error names what to add
(`language_settings.ar.yes`, `messages.hint_choice.ar`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from gateway.consultation import messages
from gateway.consultation.answers import normalise
from gateway.consultation.keywords import COMMAND_WORDS, Command
from gateway.consultation.languages import (
    COMMAND_NAMES,
    REQUIRED_COMMANDS,
    LanguageSettings,
    is_builtin,
)
from gateway.consultation.reading import index_path, key_path
from gateway.consultation.value_checking import ValueChecker, describe

SETTINGS_KEYS = ("name", "yes", "no", "words", "voice", "tts_language")
_NAME_OF: dict[Command, str] = {
    Command.OPT_OUT: "stop", Command.OPT_IN: "start", Command.HELP: "help",
    Command.SKIP: "skip", Command.LANG: "lang", Command.JOIN: "join",
}  # fmt: skip
# Every built-in command word, normalised -> the name of its command in the file.
BUILTIN_COMMANDS: dict[str, str] = {
    normalise(word): _NAME_OF[command]
    for table in COMMAND_WORDS.values()
    for command, words in table.items()
    for word in words
}
ROOT = "language_settings"


def is_word(text: str) -> bool:
    """One word of letters and digits in any script (accents and vowel signs included)."""
    return (
        bool(text)
        and text[0].isalnum()
        and all(ch.isalnum() or unicodedata.category(ch) in ("Mn", "Mc") for ch in text)
    )


def check_language_settings(
    checker: ValueChecker, value: object, languages: tuple[str, ...] | None
) -> dict[str, LanguageSettings] | None:
    """The settings per language; for a language CivicLine does not ship, all required."""
    data: Mapping[Any, Any] = {}
    if value is not None:
        checked = checker.mapping(value, ROOT, languages or ())
        if checked is None:
            return None
        data = checked
    before = len(checker.errors)
    found: dict[str, LanguageSettings] = {}
    for language in languages or ():
        raw = data.get(language)
        path = key_path(ROOT, language)
        if raw is None:
            if not is_builtin(language):
                _missing(checker, path, language, SETTINGS_KEYS)
            continue
        one = _one_language(checker, raw, path, language)
        if one is not None:
            found[language] = one
    return found if len(checker.errors) == before else None


def _one_language(
    checker: ValueChecker, raw: object, path: str, language: str
) -> LanguageSettings | None:
    data = checker.mapping(raw, path, SETTINGS_KEYS)
    if data is None:
        return None
    if not is_builtin(language):
        _missing(checker, path, language, [k for k in SETTINGS_KEYS if data.get(k) is None])
    words = _commands(checker, data.get("words"), key_path(path, "words"), language)
    yes = _words(checker, data.get("yes"), key_path(path, "yes"))
    no = _words(checker, data.get("no"), key_path(path, "no"))
    _no_word_twice(checker, path, words, yes, no)
    return LanguageSettings(
        name=_text(checker, data.get("name"), key_path(path, "name")) or "",
        yes=yes,
        no=no,
        words=words,
        voice=_text(checker, data.get("voice"), key_path(path, "voice")),
        tts_language=_text(checker, data.get("tts_language"), key_path(path, "tts_language")),
    )


_WHAT = {
    "name": "the language's own name, as its speakers write it (LANG takes it)",
    "yes": "the words that answer yes, e.g. [نعم]",
    "no": "the words that answer no, e.g. [لا]",
    "words": "its command words: " + ", ".join(REQUIRED_COMMANDS),
    "voice": "a Twilio text-to-speech voice for it, e.g. Polly.Zeina",
    "tts_language": "that voice's language tag, e.g. arb",
}


def _no_word_twice(
    checker: ValueChecker,
    path: str,
    words: Mapping[str, tuple[str, ...]],
    yes: tuple[str, ...],
    no: tuple[str, ...],
) -> None:
    """A command word that is also a yes/no answer, or a built-in command word for
    another command, would be read as the command: an answer lost, or a STOP missed."""
    answers = {normalise(w): "yes" for w in yes} | {normalise(w): "no" for w in no}
    for name, given in words.items():
        for index, word in enumerate(given):
            where = index_path(key_path(key_path(path, "words"), name), index)
            other = BUILTIN_COMMANDS.get(normalise(word))
            if normalise(word) in answers:
                checker.error(
                    where,
                    f"{word!r} is also a {answers[normalise(word)]!r} word: "
                    "a command word must not be an answer",
                )
            elif other is not None and other != name:
                checker.error(
                    where,
                    f"{word!r} is already the command word for "
                    f"{other.upper()}: choose another word",
                )


def _missing(checker: ValueChecker, path: str, language: str, keys: Any) -> None:
    for key in keys:
        checker.error(
            key_path(path, key),
            f"language {language!r} is not built in: add {key_path(path, key)}, {_WHAT[key]}",
        )


def _text(checker: ValueChecker, value: object, path: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        checker.error(path, f"expected non-empty text, got {describe(value)}")
        return None
    return value.strip()


def _words(checker: ValueChecker, value: object, path: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    items = checker.sequence(value, path, "words such as [نعم]")
    found = []
    for index, word in enumerate(items or ()):
        text = word.strip() if isinstance(word, str) else ""
        if not text:
            checker.error(index_path(path, index), f"expected a word, got {describe(word)}")
        else:
            found.append(text)
    return tuple(found)


def _commands(
    checker: ValueChecker, value: object, path: str, language: str
) -> dict[str, tuple[str, ...]]:
    if value is None:
        return {}
    data = checker.mapping(value, path, COMMAND_NAMES)
    if data is None:
        return {}
    found: dict[str, tuple[str, ...]] = {}
    for name in COMMAND_NAMES:
        words = _words(checker, data.get(name), key_path(path, name))
        for index, word in enumerate(words):
            if not is_word(word):
                checker.error(
                    index_path(key_path(path, name), index),
                    f"expected one word of letters and digits, got {word!r}",
                )
        if words:
            found[name] = words
        elif name in REQUIRED_COMMANDS and not is_builtin(language):
            checker.error(
                key_path(path, name),
                f"language {language!r} is not built in: add {key_path(path, name)}, "
                f"the word for {name.upper()} in it",
            )
    return found


def check_messages_exist(
    checker: ValueChecker,
    overrides: Mapping[str, Mapping[str, str]],
    languages: tuple[str, ...] | None,
) -> bool:
    """Every text a participant can meet, for each language CivicLine does not ship."""
    valid = True
    for language in languages or ():
        if is_builtin(language):
            continue
        for name in messages.PLACEHOLDERS:
            if language not in overrides.get(name, {}):
                checker.error(
                    key_path("messages", name),
                    f"language {language!r} has no built-in {name!r} text: "
                    f"add messages.{name}.{language}",
                )
                valid = False
    return valid
