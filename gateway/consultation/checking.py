"""Checking one consultation document, from its top level down.

Officials write these files by hand, so every problem found is reported, each naming the
file, the path inside it (`questions[1].options[0].label.sw`) and the reason, rather than
stopping at the first. This module checks the top level: the id, languages, title,
keywords, opens and closes, voice numbers, message overrides and their placeholders.
FileChecker builds on QuestionChecker (`question_checking`) and ValueChecker
(`value_checking`) for the rest. What must be unique across files is gathered in an
Identity for `catalogue` to compare.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import phonenumbers

from gateway.consultation import messages
from gateway.consultation.authoring import keywords_that_answer
from gateway.consultation.keywords import RESERVED_WORDS
from gateway.consultation.model import Consultation, Question, VoiceSettings
from gateway.consultation.outreach_texts import (
    OUTREACH_KEYS,
    check_outreach_segments,
    read_outreach,
)
from gateway.consultation.question_checking import QuestionChecker
from gateway.consultation.reading import FlowError, index_path, key_path, read_yaml
from gateway.consultation.value_checking import describe

ROOT_KEYS = (
    "id",
    "title",
    "keywords",
    "languages",
    "opens",
    "closes",
    "voice",
    "messages",
    "questions",
    "profile",
    "embargo",
) + OUTREACH_KEYS
VOICE_KEYS = ("numbers", "callback")

_CONSULTATION_ID = re.compile(r"[a-z0-9-]+")
_LANGUAGE = re.compile(r"[a-z]{2,3}")
_KEYWORD = re.compile(r"[A-Za-z0-9]+")
_DATETIME_EXAMPLE = "e.g. 2026-12-01T00:00:00+03:00"


@dataclass
class Identity:
    """What must be unique across files, taken from a file even when it has other errors."""

    source: str
    id: str | None = None
    keywords: list[tuple[str, str]] = field(default_factory=list)  # (path, KEYWORD)
    numbers: list[tuple[str, str]] = field(default_factory=list)  # (path, E.164)


def check_text(
    text: str, source: str, authoring: bool
) -> tuple[Consultation | None, list[FlowError], Identity]:
    """The consultation in `text` (None when it has errors), every error, its Identity.

    `authoring`: the rules in `authoring` apply too (files and publishing, see there).
    """
    checker = FileChecker(source)
    parsed, document = read_yaml(text, checker.error)
    if not parsed:
        return None, checker.errors, checker.identity
    if document is None:
        checker.error("", "the file is empty; expected a consultation (id, title, keywords, ...)")
        return None, checker.errors, checker.identity
    consultation = checker.consultation(document)
    if authoring and consultation is not None:
        keywords_that_answer(consultation, checker.identity.keywords, checker.error)
    return (None if checker.errors else consultation), checker.errors, checker.identity


class _PermissiveValue:
    """Formats as anything: a trial format then only fails on template structure."""

    def __format__(self, spec: str) -> str:
        return ""


class FileChecker(QuestionChecker):
    """Validates one parsed document, collecting every error it finds."""

    def __init__(self, source: str) -> None:
        super().__init__(source)
        self.identity = Identity(source)

    def consultation(self, document: object) -> Consultation | None:
        root = self.mapping(document, "", ROOT_KEYS)
        if root is None:
            return None
        cid = self.identifier(root, "id", "", _CONSULTATION_ID)
        self.identity.id = cid
        languages = self.languages(root.get("languages"))
        title = self.localized(root.get("title"), "title", languages)
        keywords = self.keywords(root.get("keywords"), languages)
        opens = self.moment(root.get("opens"), "opens")
        closes = self.moment(root.get("closes"), "closes")
        if opens is not None and closes is not None and closes <= opens:
            self.error(
                "closes",
                f"closes ({closes.isoformat()}) must be after opens ({opens.isoformat()})",
            )
        voice = self.voice(root.get("voice"))
        overrides = self.messages(root.get("messages"), languages)
        seen_ids: dict[str, str] = {}
        questions = self.questions(root.get("questions"), "questions", languages, seen_ids)
        profile: tuple[Question, ...] | None = ()
        if root.get("profile") is not None:
            profile = self.questions(
                root.get("profile"), "profile", languages, seen_ids, profile=True
            )
        embargo = self.boolean(root, "embargo", "")
        outreach = read_outreach(self, root, languages)
        if self.errors or keywords is None:
            return None
        consultation = Consultation(
            id=cid,
            title=title,
            keywords=keywords[0],
            keyword_languages=keywords[1],
            languages=languages,
            opens=opens,
            closes=closes,
            questions=questions,
            profile=profile,
            voice=voice,
            messages=overrides,
            embargo=embargo,
            source=self.source,
            **outreach,
        )
        if not check_outreach_segments(consultation, outreach, self.error):
            return None
        return consultation

    def languages(self, value: object) -> tuple[str, ...] | None:
        """The declared languages, or None when unusable (then texts are not compared)."""
        if value is None:
            self.missing("languages")
            return None
        items = self.sequence(value, "languages", "language codes such as [en, sw]")
        if items is None:
            return None
        if not items:
            self.error("languages", "needs at least one language (the first is the default)")
            return None
        valid = True
        seen: dict[str, int] = {}
        for index, code in enumerate(items):
            where = index_path("languages", index)
            if not isinstance(code, str) or not _LANGUAGE.fullmatch(code):
                self.error(
                    where,
                    "expected a lower-case language code of 2 or 3 letters (en, sw, kik), "
                    f"got {describe(code)}",
                )
                valid = False
            elif code in seen:
                self.error(where, f"duplicate language {code!r} (also languages[{seen[code]}])")
                valid = False
            else:
                seen[code] = index
        return tuple(items) if valid else None

    def keywords(
        self, value: object, languages: tuple[str, ...] | None
    ) -> tuple[tuple[str, ...], dict[str, str]] | None:
        """All keywords, and the language of each keyword listed under one.

        Either a list (`[WATER, MAJI]`) or a mapping per language
        (`{en: [WATER], sw: [MAJI]}`): texting MAJI then starts in Swahili.
        """
        if value is None:
            self.missing("keywords")
            return None
        entries: list[tuple[str, object, str | None]] = []  # (path, word, language)
        if isinstance(value, dict):
            for language, words in value.items():
                where = key_path("keywords", language)
                if languages is not None and language not in languages:
                    self.error(where, f"{language!r} is not one of the languages {languages}")
                    continue
                items = self.sequence(words, where, "words such as [MAJI]")
                for index, word in enumerate(items or ()):
                    entries.append((index_path(where, index), word, str(language)))
        else:
            items = self.sequence(value, "keywords", "words such as [WATER, MAJI]")
            if items is None:
                return None
            entries = [(index_path("keywords", i), word, None) for i, word in enumerate(items)]
        if not entries:
            self.error("keywords", "needs at least one keyword")
            return None
        valid = True
        seen: dict[str, str] = {}
        by_language: dict[str, str] = {}
        for where, word, language in entries:
            if not isinstance(word, str) or not _KEYWORD.fullmatch(word):
                self.error(
                    where,
                    f"expected one word of letters and digits, got {describe(word)}",
                )
                valid = False
                continue
            upper = word.upper()
            if upper.isdigit():
                self.error(where, f"{word!r} needs a letter: a number would be read as an answer")
                valid = False
            elif upper in RESERVED_WORDS:
                self.error(where, f"{word!r} is a reserved command word")
                valid = False
            elif upper in seen:
                self.error(where, f"duplicate keyword {upper!r} (also {seen[upper]})")
                valid = False
            else:
                seen[upper] = where
                self.identity.keywords.append((where, upper))
                if language is not None:
                    by_language[upper] = language
        return (tuple(seen), by_language) if valid else None

    def moment(self, value: object, path: str) -> datetime | None:
        if value is None:
            self.missing(path)
            return None
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.strip())
            except ValueError:
                self.error(path, f"{value!r} is not an ISO 8601 date and time, {_DATETIME_EXAMPLE}")
                return None
        if not isinstance(value, datetime):
            self.error(
                path,
                f"expected a date and time with a UTC offset, {_DATETIME_EXAMPLE}, "
                f"got {describe(value)}",
            )
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            self.error(path, f"{value.isoformat()} needs a UTC offset, {_DATETIME_EXAMPLE}")
            return None
        return value

    def voice(self, value: object) -> VoiceSettings | None:
        if value is None:
            return VoiceSettings()
        data = self.mapping(value, "voice", VOICE_KEYS)
        if data is None:
            return None
        numbers: list[str] | None = []
        raw = data.get("numbers")
        if raw is not None:
            items = self.sequence(raw, "voice.numbers", 'E.164 numbers such as ["+254700000001"]')
            numbers = None if items is None else self.phone_numbers(items)
        callback = self.boolean(data, "callback", "voice")
        if numbers is None or callback is None:
            return None
        return VoiceSettings(numbers=tuple(numbers), callback=callback)

    def phone_numbers(self, items: list[Any]) -> list[str] | None:
        valid = True
        seen: dict[str, int] = {}
        numbers: list[str] = []
        for index, raw in enumerate(items):
            where = index_path("voice.numbers", index)
            number = self.phone_number(raw, where)
            if number is None:
                valid = False
            elif number in seen:
                self.error(where, f"duplicate number {number} (also voice.numbers[{seen[number]}])")
                valid = False
            else:
                seen[number] = index
                numbers.append(number)
                self.identity.numbers.append((where, number))
        return numbers if valid else None

    def phone_number(self, raw: object, where: str) -> str | None:
        if isinstance(raw, int) and not isinstance(raw, bool):
            self.error(
                where,
                f'write phone numbers as quoted text, e.g. "+{raw}" (unquoted, YAML reads '
                "a number and drops the +)",
            )
            return None
        if not isinstance(raw, str):
            self.error(where, f"expected an E.164 phone number, got {describe(raw)}")
            return None
        text = raw.strip()
        if not text.startswith("+"):
            self.error(where, f"{raw!r} must be in E.164 form: + and the country code")
            return None
        try:
            parsed = phonenumbers.parse(text, None)
        except phonenumbers.NumberParseException as exc:
            reason = re.sub(r"^\(\d+\) ", "", str(exc)).rstrip(".")  # drop "(3) "
            self.error(where, f"{raw!r} is not a phone number: {reason}")
            return None
        if not phonenumbers.is_valid_number(parsed):
            self.error(where, f"{raw!r} is not a valid phone number")
            return None
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)

    def messages(
        self, value: object, languages: tuple[str, ...] | None
    ) -> dict[str, dict[str, str]] | None:
        overrides: dict[str, dict[str, str]] = {}
        data: dict[Any, Any] = {}
        valid = True
        if value is not None:
            not_overridable = {
                name: f"{name!r} cannot be overridden; overridable: "
                + ", ".join(messages.OVERRIDABLE)
                for name in messages.PLACEHOLDERS
                if name not in messages.OVERRIDABLE
            }
            checked = self.mapping(value, "messages", messages.OVERRIDABLE, not_overridable)
            if checked is None:
                return None
            data = checked
        for name in messages.OVERRIDABLE:
            if name not in data:
                continue
            path = key_path("messages", name)
            texts = self.localized(data[name], path, languages)
            if texts is None:
                valid = False
                continue
            for language, template in texts.items():
                if not self.template(template, key_path(path, language), name):
                    valid = False
            overrides[name] = texts
        for language in languages or ():
            for name in messages.OVERRIDABLE:
                if name not in data and not messages.has_builtin(name, language):
                    self.error(
                        key_path("messages", name),
                        f"language {language!r} has no built-in {name!r} text: "
                        f"add messages.{name}.{language}",
                    )
                    valid = False
        return overrides if valid else None

    def template(self, template: str, path: str, name: str) -> bool:
        allowed = messages.PLACEHOLDERS[name]
        allowed_text = ", ".join("{" + p + "}" for p in sorted(allowed))
        try:
            used = messages.placeholders(template)
        except ValueError as exc:
            self.error(path, f"malformed braces ({exc}); write {{{{ or }}}} for a literal brace")
            return False
        unknown = sorted(used - allowed)
        if unknown:
            shown = ", ".join("{" + p + "}" for p in unknown)
            self.error(path, f"unknown placeholder {shown}; {name!r} may use {allowed_text}")
            return False
        trial = {p: _PermissiveValue() for p in allowed}
        try:
            template.format(**trial)
        except (IndexError, KeyError, ValueError) as exc:
            self.error(
                path,
                f"placeholders must be named ({exc}); {name!r} may use {allowed_text}",
            )
            return False
        return True
