"""Checking the questions of a consultation document, and the options of choice questions.

Each question has an id unique across `questions` and `profile`, a type, a prompt in
every language, and only the keys its type has (options, min and max, max_length). Each
option of a question must be told apart from the others by a reply: no two labels or
aliases normalise to the same word, and none is a number that names another option.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from gateway.consultation.answers import normalise
from gateway.consultation.model import MAX_OPTIONS, Option, Question, QuestionType
from gateway.consultation.reading import index_path, key_path
from gateway.consultation.value_checking import ValueChecker, describe, quote_hint

QUESTION_KEYS = ("id", "type", "prompt", "options", "min", "max", "optional", "max_length")
OPTION_KEYS = ("id", "label", "aliases")

MIN_SCALE, MAX_SCALE = 1, 9  # one phone key per value; 0 is the skip key
MAX_TEXT_LENGTH = 1600
DEFAULT_TEXT_LENGTH = 480

QUESTION_ID = re.compile(r"[a-z0-9_]+")  # question and option ids


class QuestionChecker(ValueChecker):
    """Checks `questions` and `profile`: each question, its options and their aliases."""

    def questions(
        self,
        value: object,
        path: str,
        languages: tuple[str, ...] | None,
        seen_ids: dict[str, str],
        *,
        profile: bool = False,
    ) -> tuple[Question, ...] | None:
        if value is None:
            self.missing(path)
            return None
        items = self.sequence(value, path, "questions")
        if items is None:
            return None
        if not items and not profile:
            self.error(path, "needs at least one question")
            return None
        questions = [
            self.question(item, index_path(path, index), languages, seen_ids, profile)
            for index, item in enumerate(items)
        ]
        if any(q is None for q in questions):
            return None
        return tuple(q for q in questions if q is not None)

    def question(
        self,
        value: object,
        path: str,
        languages: tuple[str, ...] | None,
        seen_ids: dict[str, str],
        profile: bool,
    ) -> Question | None:
        errors_before = len(self.errors)
        data = self.mapping(value, path, QUESTION_KEYS)
        if data is None:
            return None
        qid = self.identifier(data, "id", path, QUESTION_ID)
        if qid is not None:
            if qid in seen_ids:
                self.error(
                    key_path(path, "id"), f"duplicate question id {qid!r} (also {seen_ids[qid]})"
                )
            else:
                seen_ids[qid] = key_path(path, "id")
        qtype = self.question_type(data.get("type"), key_path(path, "type"))
        prompt = self.localized(data.get("prompt"), key_path(path, "prompt"), languages)
        optional = self.boolean(data, "optional", path)
        options: tuple[Option, ...] = ()
        low = high = None
        max_length = DEFAULT_TEXT_LENGTH
        if qtype is not None:
            self.only_for(data, path, qtype, QuestionType.CHOICE, ("options",))
            self.only_for(data, path, qtype, QuestionType.SCALE, ("min", "max"))
            self.only_for(data, path, qtype, QuestionType.TEXT, ("max_length",))
        if qtype is QuestionType.CHOICE:
            options = self.options(data.get("options"), key_path(path, "options"), languages) or ()
        elif qtype is QuestionType.SCALE:
            low, high = self.scale(data, path)
        elif qtype is QuestionType.TEXT and data.get("max_length") is not None:
            max_length = self.max_length(data, path) or DEFAULT_TEXT_LENGTH
        if len(self.errors) > errors_before:
            return None
        return Question(
            id=qid,
            type=qtype,
            prompt=prompt,
            options=options,
            min=low,
            max=high,
            optional=optional,
            max_length=max_length,
            profile=profile,
        )

    def question_type(self, value: object, path: str) -> QuestionType | None:
        allowed = ", ".join(t.value for t in QuestionType)
        if value is None:
            self.missing(path, f": one of {allowed}")
            return None
        if isinstance(value, str) and value in {t.value for t in QuestionType}:
            return QuestionType(value)
        self.error(path, f"unknown question type {describe(value)}; allowed: {allowed}")
        return None

    def only_for(
        self,
        data: Mapping[str, Any],
        path: str,
        qtype: QuestionType,
        owner: QuestionType,
        keys: Sequence[str],
    ) -> None:
        if qtype is owner:
            return
        for key in keys:
            if key in data:
                self.error(
                    key_path(path, key),
                    f"only {owner.value} questions have {key!r}; this one is {qtype.value}",
                )

    def scale(self, data: Mapping[str, Any], path: str) -> tuple[int | None, int | None]:
        why = " for scale questions"
        low = self.integer(data, "min", path, why)
        high = self.integer(data, "max", path, why)
        if low is not None and low < MIN_SCALE:
            self.error(
                key_path(path, "min"),
                f"must be at least {MIN_SCALE}, got {low} (0 is the skip key on the phone)",
            )
        if high is not None and high > MAX_SCALE:
            self.error(
                key_path(path, "max"),
                f"must be at most {MAX_SCALE}, got {high} (voice takes a single key)",
            )
        if low is not None and high is not None and low >= high:
            self.error(key_path(path, "max"), f"must be greater than min ({low}), got {high}")
        return low, high

    def max_length(self, data: Mapping[str, Any], path: str) -> int | None:
        value = self.integer(data, "max_length", path, "")
        if value is not None and not 1 <= value <= MAX_TEXT_LENGTH:
            self.error(
                key_path(path, "max_length"), f"must be from 1 to {MAX_TEXT_LENGTH}, got {value}"
            )
            return None
        return value

    def options(
        self, value: object, path: str, languages: tuple[str, ...] | None
    ) -> tuple[Option, ...] | None:
        if value is None:
            self.missing(path, f" for choice questions: 2 to {MAX_OPTIONS} options")
            return None
        items = self.sequence(value, path, "options")
        if items is None:
            return None
        if len(items) < 2:
            self.error(path, f"a choice question needs at least 2 options, got {len(items)}")
        elif len(items) > MAX_OPTIONS:
            self.error(
                path,
                f"too many options: {len(items)}; at most {MAX_OPTIONS} "
                "(voice uses one phone key per option)",
            )
        options: list[tuple[int, str, Option]] = []  # (1-based position, path, option)
        seen: dict[str, str] = {}
        valid = True
        for index, item in enumerate(items):
            where = index_path(path, index)
            option = self.option(item, where, languages)
            if option is None:
                valid = False
            elif option.id in seen:
                self.error(
                    key_path(where, "id"),
                    f"duplicate option id {option.id!r} (also {seen[option.id]})",
                )
                valid = False
            else:
                seen[option.id] = key_path(where, "id")
                options.append((index + 1, where, option))
        if not self.distinct_names(options):
            valid = False
        return tuple(option for _, _, option in options) if valid else None

    def option(self, value: object, path: str, languages: tuple[str, ...] | None) -> Option | None:
        data = self.mapping(value, path, OPTION_KEYS)
        if data is None:
            return None
        oid = self.identifier(data, "id", path, QUESTION_ID)
        label = self.localized(data.get("label"), key_path(path, "label"), languages)
        aliases = self.aliases(data.get("aliases"), key_path(path, "aliases"), languages)
        if oid is None or label is None or aliases is None:
            return None
        return Option(id=oid, label=label, aliases=aliases)

    def aliases(
        self, value: object, path: str, languages: tuple[str, ...] | None
    ) -> dict[str, tuple[str, ...]] | None:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.error(
                path,
                "expected a mapping of language to a list of words, e.g. {en: [tap]}, "
                f"got {describe(value)}",
            )
            return None
        valid = True
        aliases: dict[str, tuple[str, ...]] = {}
        for language, words in value.items():
            where = key_path(path, language)
            if not isinstance(language, str):
                self.error(path, f"language {language!r} is not text")
                valid = False
                continue
            if languages is not None and language not in languages:
                self.error(
                    where, f"language {language!r} is not in languages ({', '.join(languages)})"
                )
                valid = False
            items = self.sequence(words, where, "words")
            if items is None:
                valid = False
                continue
            for index, word in enumerate(items):
                if not isinstance(word, str) or not word.strip():
                    self.error(
                        index_path(where, index),
                        f"expected non-empty text, got {describe(word)}" + quote_hint(word),
                    )
                    valid = False
            if valid:
                aliases[language] = tuple(word.strip() for word in items)
        return aliases if valid else None

    def distinct_names(self, options: list[tuple[int, str, Option]]) -> bool:
        """No two options of one question answer to the same (normalized) word."""
        valid = True
        names: dict[tuple[str, str], tuple[str, str]] = {}  # (language, name) -> (id, path)
        for position, path, option in options:
            candidates = [
                (lang, text, key_path(key_path(path, "label"), lang))
                for lang, text in option.label.items()
            ]
            for lang, words in option.aliases.items():
                for index, word in enumerate(words):
                    alias_path = index_path(key_path(key_path(path, "aliases"), lang), index)
                    candidates.append((lang, word, alias_path))
            for lang, text, where in candidates:
                name = normalise(text)
                if not name:
                    self.error(where, f"{text!r} has no letters or digits to match a reply")
                    valid = False
                    continue
                if name.isdecimal() and int(name) <= MAX_OPTIONS and int(name) != position:
                    self.error(
                        where,
                        f"{text!r} would be read as option number {int(name)}, not "
                        f"{option.id!r} (option {position})",
                    )
                    valid = False
                    continue
                other = names.get((lang, name))
                if other is None:
                    names[(lang, name)] = (option.id, where)
                elif other[0] != option.id:
                    self.error(
                        where,
                        f"{text!r} also names option {other[0]!r} ({other[1]}); "
                        "a reply could not tell them apart",
                    )
                    valid = False
        return valid
