"""The checks every part of a consultation document uses, and how a wrong value is described.

A mapping with known keys, a list, true or false, a whole number, an id, a text in each
declared language. Each wrong value is an error naming what was found instead (`got the
number 5`), with a hint when the usual fix is quoting it. Wrong types are errors, never
exceptions. `question_checking` and `checking` build on ValueChecker.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from gateway.consultation.reading import FlowError, key_path


def describe(value: object) -> str:
    """What was found instead of what was expected: `the number 5`, `text 'WATER'`."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"text {shown!r}"
    if isinstance(value, datetime):
        return "a date and time"
    if isinstance(value, date):
        return "a date"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def quote_hint(value: object) -> str:
    """Numbers and booleans where text is expected: the fix is usually quoting."""
    if isinstance(value, bool | int | float):
        return " (put it in quotes to make it text)"
    return ""


def unknown_key(key: str, allowed: Sequence[str]) -> str:
    """The closest allowed key when there is one (a typo), else all of them."""
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else f"; allowed: {', '.join(allowed)}"
    return f"unknown key {key!r}{hint}"


class ValueChecker:
    """Collects every error found in one document; checks the shapes all its parts share."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.errors: list[FlowError] = []

    def error(self, path: str, message: str) -> None:
        self.errors.append(FlowError(self.source, path, message))

    def mapping(
        self,
        value: object,
        path: str,
        allowed: Sequence[str],
        refused: Mapping[str, str] | None = None,
    ) -> dict[Any, Any] | None:
        """`value` as a mapping; unknown keys are errors (`refused` explains some of them)."""
        if not isinstance(value, dict):
            self.error(
                path, f"expected a mapping with keys {', '.join(allowed)}, got {describe(value)}"
            )
            return None
        for key in value:
            if not isinstance(key, str):
                self.error(path, f"key {key!r} is not text; allowed keys: {', '.join(allowed)}")
            elif refused and key in refused:
                self.error(key_path(path, key), refused[key])
            elif key not in allowed:
                self.error(key_path(path, key), unknown_key(key, allowed))
        return value

    def sequence(self, value: object, path: str, what: str) -> list[Any] | None:
        if not isinstance(value, list):
            self.error(path, f"expected a list of {what}, got {describe(value)}")
            return None
        return value

    def missing(self, path: str, why: str = "") -> None:
        self.error(path, f"missing (required{why})")

    def boolean(self, data: Mapping[str, Any], key: str, path: str) -> bool | None:
        value = data.get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            self.error(key_path(path, key), f"expected true or false, got {describe(value)}")
            return None
        return value

    def integer(self, data: Mapping[str, Any], key: str, path: str, why: str) -> int | None:
        value = data.get(key)
        if value is None:
            self.missing(key_path(path, key), why)
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(key_path(path, key), f"expected a whole number, got {describe(value)}")
            return None
        return value

    def identifier(
        self, data: Mapping[str, Any], key: str, path: str, pattern: re.Pattern[str]
    ) -> str | None:
        value = data.get(key)
        where = key_path(path, key)
        if value is None:
            self.missing(where)
            return None
        if not isinstance(value, str) or not pattern.fullmatch(value):
            self.error(
                where,
                f"expected an id matching {pattern.pattern}, got {describe(value)}"
                + quote_hint(value),
            )
            return None
        return value

    def localized(
        self, value: object, path: str, languages: tuple[str, ...] | None
    ) -> dict[str, str] | None:
        """A mapping language -> non-empty text with exactly the declared languages."""
        if value is None:
            self.missing(path)
            return None
        if not isinstance(value, dict):
            self.error(
                path,
                "expected a mapping of language to text, e.g. {en: ..., sw: ...}, "
                f"got {describe(value)}",
            )
            return None
        valid = True
        texts: dict[str, str] = {}
        for language, text in value.items():
            where = key_path(path, language)
            if not isinstance(language, str):
                self.error(path, f"language {language!r} is not text")
                valid = False
                continue
            if languages is not None and language not in languages:
                if text is None:  # `{en: Roads, bridges}` reads `bridges` as a key
                    self.error(
                        where,
                        f"{language!r} is not a language of this consultation; if it belongs "
                        "to the text before it, quote that text: inside {...} a comma starts "
                        "a new entry",
                    )
                    valid = False
                    continue
                self.error(
                    where,
                    f"language {language!r} is not in languages ({', '.join(languages)})",
                )
                valid = False
            if not isinstance(text, str) or not text.strip():
                self.error(
                    where, f"expected non-empty text, got {describe(text)}" + quote_hint(text)
                )
                valid = False
                continue
            texts[language] = text.strip()
        for language in languages or ():
            if language not in value:
                self.error(
                    key_path(path, language), f"missing translation for language {language!r}"
                )
                valid = False
        return texts if valid else None

