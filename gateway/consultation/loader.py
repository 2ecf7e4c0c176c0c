"""ivr_flows/*.yaml -> validated `Consultation`s.

Officials write these files by hand, so the loader reports every problem it can find,
each naming the file, the path inside it (`questions[1].options[0].label.sw`) and the
reason, rather than stopping at the first. Wrong types are errors, never exceptions.

Some rules came after consultations were first published. They apply to definitions
being written (`authoring=True`: files, `flows check`, FLOWS_DIR, `central publish`),
not to definitions read back from a store: a published consultation that stopped
validating could no longer be read, tallied, synced or re-published with a fix.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import phonenumbers
import yaml

from gateway.consultation import messages
from gateway.consultation.answers import Answer, normalise, parse_sms_answer
from gateway.consultation.keywords import RESERVED_WORDS
from gateway.consultation.model import (
    MAX_OPTIONS,
    Catalog,
    Consultation,
    Option,
    Question,
    QuestionType,
    VoiceSettings,
)

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
)
QUESTION_KEYS = ("id", "type", "prompt", "options", "min", "max", "optional", "max_length")
OPTION_KEYS = ("id", "label", "aliases")
VOICE_KEYS = ("numbers", "callback")


MIN_SCALE, MAX_SCALE = 1, 9  # one phone key per value; 0 is the skip key
MAX_TEXT_LENGTH = 1600
DEFAULT_TEXT_LENGTH = 480
FLOW_SUFFIXES = (".yaml", ".yml")

_CONSULTATION_ID = re.compile(r"[a-z0-9-]+")
_QUESTION_ID = re.compile(r"[a-z0-9_]+")
_LANGUAGE = re.compile(r"[a-z]{2,3}")
_KEYWORD = re.compile(r"[A-Za-z0-9]+")
_DATETIME_EXAMPLE = "e.g. 2026-12-01T00:00:00+03:00"


@dataclass(frozen=True)
class FlowError:
    """One problem in one consultation file."""

    file: str
    path: str  # e.g. questions[1].options[0].label.sw; "" for the whole file
    message: str

    def __str__(self) -> str:
        if self.path:
            return f"{self.file}: {self.path}: {self.message}"
        return f"{self.file}: {self.message}"


class FlowsInvalid(Exception):
    """Raised with every error found, so an official can fix them all in one pass."""

    def __init__(self, errors: Sequence[FlowError]) -> None:
        self.errors: list[FlowError] = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


@dataclass(frozen=True)
class CatalogScan:
    """What a set of paths holds: the files read, the valid consultations, all errors."""

    files: tuple[str, ...]
    consultations: tuple[Consultation, ...]
    errors: list[FlowError] = field(default_factory=list)


# --- YAML -------------------------------------------------------------------------------

_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _FlowYamlLoader(yaml.SafeLoader):
    """A safe loader with YAML 1.2 booleans and integers, which records duplicate keys.

    PyYAML follows YAML 1.1, where `no` (a language code, an alias) is False, `yes` and
    `on` are True, `18_34` (an age-band id) is the integer 1834 and `1:30` is 90. Here
    only true/false are booleans and only plain decimal numbers are integers; the rest
    stays text. PyYAML also keeps the last of two equal keys silently: we report it.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicate_keys: list[tuple[str, yaml.Mark]] = []

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> date | datetime:
        """Report an impossible date (2026-13-01) with its line, like a syntax error."""
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"invalid date {node.value!r} ({exc})", node.start_mark
            ) from exc

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[tuple[str, str]] = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
                continue
            key = (key_node.tag, key_node.value)
            if key in seen:
                self.duplicate_keys.append((key_node.value, key_node.start_mark))
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_FlowYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_BOOL_TAG, _INT_TAG)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_FlowYamlLoader.add_constructor(
    "tag:yaml.org,2002:timestamp", _FlowYamlLoader.construct_yaml_timestamp
)
_FlowYamlLoader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_FlowYamlLoader.add_implicit_resolver(
    _INT_TAG, re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789")
)


_FLOW_QUOTING_HINT = (
    'inside {...} or [...], quote text that contains ? : , { } [ ] (e.g. {en: "Your age?"}) '
    "or write one language per line"
)


def _mark(mark: yaml.Mark | None) -> str:
    return "" if mark is None else f"line {mark.line + 1}, column {mark.column + 1}: "


def _read_yaml(text: str, report: Callable[[str, str], None]) -> tuple[bool, Any]:
    """(parsed?, document); syntax errors and duplicate keys go to `report`."""
    try:
        loader = _FlowYamlLoader(text)  # reads the text: rejects control characters here
    except yaml.YAMLError as exc:
        report("", f"YAML error: {exc}")
        return False, None
    try:
        document = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        reason = " ".join(part for part in (exc.context, exc.problem) if part)
        if exc.context and exc.context.startswith("while parsing a flow"):
            reason += f"; {_FLOW_QUOTING_HINT}"
        report("", f"{_mark(exc.problem_mark)}YAML syntax error: {reason}")
        return False, None
    except (yaml.YAMLError, ValueError, OverflowError) as exc:
        report("", f"YAML error: {exc}")
        return False, None
    finally:
        loader.dispose()
    for key, mark in loader.duplicate_keys:
        report("", f"{_mark(mark)}duplicate key {key!r} (only the last one would count)")
    return True, document


# --- helpers ------------------------------------------------------------------------------


def _at(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def _item(path: str, index: int) -> str:
    return f"{path}[{index}]"


def _describe(value: object) -> str:
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


def _quote_hint(value: object) -> str:
    """Numbers and booleans where text is expected: the fix is usually quoting."""
    if isinstance(value, bool | int | float):
        return " (put it in quotes to make it text)"
    return ""


def _unknown_key(key: str, allowed: Sequence[str]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else f"; allowed: {', '.join(allowed)}"
    return f"unknown key {key!r}{hint}"


class _PermissiveValue:
    """Formats as anything: a trial format then only fails on template structure."""

    def __format__(self, spec: str) -> str:
        return ""


# --- one file -------------------------------------------------------------------------------


@dataclass
class _Identity:
    """What must be unique across files, taken from a file even when it has other errors."""

    source: str
    id: str | None = None
    keywords: list[tuple[str, str]] = field(default_factory=list)  # (path, KEYWORD)
    numbers: list[tuple[str, str]] = field(default_factory=list)  # (path, E.164)


class _FileChecker:
    """Validates one parsed document, collecting every error it finds."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.errors: list[FlowError] = []
        self.identity = _Identity(source)

    def error(self, path: str, message: str) -> None:
        self.errors.append(FlowError(self.source, path, message))

    # generic shapes

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
                path, f"expected a mapping with keys {', '.join(allowed)}, got {_describe(value)}"
            )
            return None
        for key in value:
            if not isinstance(key, str):
                self.error(path, f"key {key!r} is not text; allowed keys: {', '.join(allowed)}")
            elif refused and key in refused:
                self.error(_at(path, key), refused[key])
            elif key not in allowed:
                self.error(_at(path, key), _unknown_key(key, allowed))
        return value

    def sequence(self, value: object, path: str, what: str) -> list[Any] | None:
        if not isinstance(value, list):
            self.error(path, f"expected a list of {what}, got {_describe(value)}")
            return None
        return value

    def missing(self, path: str, why: str = "") -> None:
        self.error(path, f"missing (required{why})")

    def boolean(self, data: Mapping[str, Any], key: str, path: str) -> bool | None:
        value = data.get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            self.error(_at(path, key), f"expected true or false, got {_describe(value)}")
            return None
        return value

    def integer(self, data: Mapping[str, Any], key: str, path: str, why: str) -> int | None:
        value = data.get(key)
        if value is None:
            self.missing(_at(path, key), why)
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(_at(path, key), f"expected a whole number, got {_describe(value)}")
            return None
        return value

    def identifier(
        self, data: Mapping[str, Any], key: str, path: str, pattern: re.Pattern[str]
    ) -> str | None:
        value = data.get(key)
        where = _at(path, key)
        if value is None:
            self.missing(where)
            return None
        if not isinstance(value, str) or not pattern.fullmatch(value):
            self.error(
                where,
                f"expected an id matching {pattern.pattern}, got {_describe(value)}"
                + _quote_hint(value),
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
                f"got {_describe(value)}",
            )
            return None
        valid = True
        texts: dict[str, str] = {}
        for language, text in value.items():
            where = _at(path, language)
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
                    where, f"expected non-empty text, got {_describe(text)}" + _quote_hint(text)
                )
                valid = False
                continue
            texts[language] = text.strip()
        for language in languages or ():
            if language not in value:
                self.error(_at(path, language), f"missing translation for language {language!r}")
                valid = False
        return texts if valid else None

    # top level

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
        if self.errors or keywords is None:
            return None
        return Consultation(
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
        )

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
            where = _item("languages", index)
            if not isinstance(code, str) or not _LANGUAGE.fullmatch(code):
                self.error(
                    where,
                    "expected a lower-case language code of 2 or 3 letters (en, sw, kik), "
                    f"got {_describe(code)}",
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
                where = _at("keywords", language)
                if languages is not None and language not in languages:
                    self.error(where, f"{language!r} is not one of the languages {languages}")
                    continue
                items = self.sequence(words, where, "words such as [MAJI]")
                for index, word in enumerate(items or ()):
                    entries.append((_item(where, index), word, str(language)))
        else:
            items = self.sequence(value, "keywords", "words such as [WATER, MAJI]")
            if items is None:
                return None
            entries = [(_item("keywords", i), word, None) for i, word in enumerate(items)]
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
                    f"expected one word of letters and digits, got {_describe(word)}",
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
                f"got {_describe(value)}",
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
            where = _item("voice.numbers", index)
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
            self.error(where, f"expected an E.164 phone number, got {_describe(raw)}")
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
            path = _at("messages", name)
            texts = self.localized(data[name], path, languages)
            if texts is None:
                valid = False
                continue
            for language, template in texts.items():
                if not self.template(template, _at(path, language), name):
                    valid = False
            overrides[name] = texts
        for language in languages or ():
            for name in messages.OVERRIDABLE:
                if name not in data and not messages.has_builtin(name, language):
                    self.error(
                        _at("messages", name),
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

    # questions

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
            self.question(item, _item(path, index), languages, seen_ids, profile)
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
        qid = self.identifier(data, "id", path, _QUESTION_ID)
        if qid is not None:
            if qid in seen_ids:
                self.error(_at(path, "id"), f"duplicate question id {qid!r} (also {seen_ids[qid]})")
            else:
                seen_ids[qid] = _at(path, "id")
        qtype = self.question_type(data.get("type"), _at(path, "type"))
        prompt = self.localized(data.get("prompt"), _at(path, "prompt"), languages)
        optional = self.boolean(data, "optional", path)
        options: tuple[Option, ...] = ()
        low = high = None
        max_length = DEFAULT_TEXT_LENGTH
        if qtype is not None:
            self.only_for(data, path, qtype, QuestionType.CHOICE, ("options",))
            self.only_for(data, path, qtype, QuestionType.SCALE, ("min", "max"))
            self.only_for(data, path, qtype, QuestionType.TEXT, ("max_length",))
        if qtype is QuestionType.CHOICE:
            options = self.options(data.get("options"), _at(path, "options"), languages) or ()
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
        self.error(path, f"unknown question type {_describe(value)}; allowed: {allowed}")
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
                    _at(path, key),
                    f"only {owner.value} questions have {key!r}; this one is {qtype.value}",
                )

    def scale(self, data: Mapping[str, Any], path: str) -> tuple[int | None, int | None]:
        why = " for scale questions"
        low = self.integer(data, "min", path, why)
        high = self.integer(data, "max", path, why)
        if low is not None and low < MIN_SCALE:
            self.error(
                _at(path, "min"),
                f"must be at least {MIN_SCALE}, got {low} (0 is the skip key on the phone)",
            )
        if high is not None and high > MAX_SCALE:
            self.error(
                _at(path, "max"),
                f"must be at most {MAX_SCALE}, got {high} (voice takes a single key)",
            )
        if low is not None and high is not None and low >= high:
            self.error(_at(path, "max"), f"must be greater than min ({low}), got {high}")
        return low, high

    def max_length(self, data: Mapping[str, Any], path: str) -> int | None:
        value = self.integer(data, "max_length", path, "")
        if value is not None and not 1 <= value <= MAX_TEXT_LENGTH:
            self.error(_at(path, "max_length"), f"must be from 1 to {MAX_TEXT_LENGTH}, got {value}")
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
            where = _item(path, index)
            option = self.option(item, where, languages)
            if option is None:
                valid = False
            elif option.id in seen:
                self.error(
                    _at(where, "id"), f"duplicate option id {option.id!r} (also {seen[option.id]})"
                )
                valid = False
            else:
                seen[option.id] = _at(where, "id")
                options.append((index + 1, where, option))
        if not self.distinct_names(options):
            valid = False
        return tuple(option for _, _, option in options) if valid else None

    def option(self, value: object, path: str, languages: tuple[str, ...] | None) -> Option | None:
        data = self.mapping(value, path, OPTION_KEYS)
        if data is None:
            return None
        oid = self.identifier(data, "id", path, _QUESTION_ID)
        label = self.localized(data.get("label"), _at(path, "label"), languages)
        aliases = self.aliases(data.get("aliases"), _at(path, "aliases"), languages)
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
                f"got {_describe(value)}",
            )
            return None
        valid = True
        aliases: dict[str, tuple[str, ...]] = {}
        for language, words in value.items():
            where = _at(path, language)
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
                        _item(where, index),
                        f"expected non-empty text, got {_describe(word)}" + _quote_hint(word),
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
                (lang, text, _at(_at(path, "label"), lang)) for lang, text in option.label.items()
            ]
            for lang, words in option.aliases.items():
                for index, word in enumerate(words):
                    candidates.append((lang, word, _item(_at(_at(path, "aliases"), lang), index)))
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

    # rules for definitions being written (see the module's docstring)

    def keywords_that_answer(self, consultation: Consultation) -> None:
        """No keyword may also be an answer to one of the questions.

        Mid-consultation the engine reads such a word as the answer to the current
        question (gateway/consultation/sms_conversation.py), so the keyword cannot resend or
        restart the consultation there, and elsewhere it is the keyword, never the
        answer. Compared as the answer parser and the keyword matcher see texts.
        """
        keywords = {normalise(word): (path, word) for path, word in self.identity.keywords}
        sections = (("questions", consultation.questions), ("profile", consultation.profile))
        for section, questions in sections:
            for index, question in enumerate(questions):
                if question.type is QuestionType.TEXT:  # any text answers: the engine's rule
                    continue
                path = _item(section, index)
                named = self.labels_that_are_keywords(question, path, keywords)
                for key, (keyword_path, word) in keywords.items():
                    if key in named:
                        continue
                    parsed = parse_sms_answer(
                        consultation, question, word, consultation.default_language
                    )
                    if isinstance(parsed, Answer):
                        self.error(
                            keyword_path,
                            f"{word!r} would also be read as an answer to {path} "
                            f"({question.id!r}): {_reading(consultation, question, parsed)}; "
                            f"{_TWO_MEANINGS.format(question='that question')}: change the "
                            "keyword",
                        )

    def labels_that_are_keywords(
        self, question: Question, path: str, keywords: Mapping[str, tuple[str, str]]
    ) -> set[str]:
        """Report each label and alias of `question` that is a keyword; those keywords."""
        found: set[str] = set()
        for index, option in enumerate(question.options):
            where = _item(_at(path, "options"), index)
            names = [
                ("label", text, _at(_at(where, "label"), lang))
                for lang, text in option.label.items()
            ]
            names += [
                ("alias", word, _item(_at(_at(where, "aliases"), lang), position))
                for lang, words in option.aliases.items()
                for position, word in enumerate(words)
            ]
            for kind, text, name_path in names:
                key = normalise(text)
                if key not in keywords:
                    continue
                found.add(key)
                remedy = "remove the alias" if kind == "alias" else "reword the label"
                self.error(
                    name_path,
                    f"{text!r} is also the keyword {keywords[key][1]}; "
                    f"{_TWO_MEANINGS.format(question='this question')}: {remedy} or change "
                    "the keyword",
                )
        return found


_TWO_MEANINGS = (
    "a participant texting it would answer {question} while on it, and be read as the "
    "keyword anywhere else"
)


def _reading(consultation: Consultation, question: Question, answer: Answer) -> str:
    if question.type is QuestionType.CHOICE:
        position, option = next(
            (n, o) for n, o in enumerate(question.options, 1) if o.id == answer.value
        )
        return f"option {position}, {option.label[consultation.default_language]!r}"
    return repr(answer.value)


def _check_text(
    text: str, source: str, authoring: bool
) -> tuple[Consultation | None, list[FlowError], _Identity]:
    checker = _FileChecker(source)
    parsed, document = _read_yaml(text, checker.error)
    if not parsed:
        return None, checker.errors, checker.identity
    if document is None:
        checker.error("", "the file is empty; expected a consultation (id, title, keywords, ...)")
        return None, checker.errors, checker.identity
    consultation = checker.consultation(document)
    if authoring and consultation is not None:
        checker.keywords_that_answer(consultation)
    return (None if checker.errors else consultation), checker.errors, checker.identity


# --- public API -----------------------------------------------------------------------------


def parse_consultation(text: str, source: str, *, authoring: bool = False) -> Consultation:
    """Parse and validate one consultation; raises FlowsInvalid with every error found.

    `authoring`: the text is being written or published, not read back from a store, so
    the rules added since consultations were first published apply too.
    """
    consultation, errors, _ = _check_text(text, source, authoring)
    if errors or consultation is None:
        raise FlowsInvalid(errors)
    return consultation


def _read(path: Path) -> tuple[str | None, FlowError | None]:
    try:
        return path.read_text(encoding="utf-8"), None
    except UnicodeDecodeError as exc:
        return None, FlowError(str(path), "", f"not UTF-8 text ({exc.reason} at byte {exc.start})")
    except OSError as exc:
        return None, FlowError(str(path), "", f"cannot read the file: {exc.strerror or exc}")


def load_file(path: Path | str) -> Consultation:
    """Load one consultation file; raises FlowsInvalid."""
    text, error = _read(Path(path))
    if text is None:
        raise FlowsInvalid([error] if error else [])
    return parse_consultation(text, str(path), authoring=True)


def _flow_files(paths: Sequence[Path]) -> tuple[list[Path], list[FlowError]]:
    """The files to load: given files, and each directory's *.yaml/*.yml (not recursive)."""
    files: list[Path] = []
    errors: list[FlowError] = []
    seen: set[Path] = set()

    def add(file: Path) -> None:
        key = file.resolve()
        if key not in seen:
            seen.add(key)
            files.append(file)

    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.iterdir()):
                is_flow = child.suffix.lower() in FLOW_SUFFIXES
                if is_flow and child.is_file() and not child.name.startswith("."):
                    add(child)
        elif path.is_file():
            if path.suffix.lower() in FLOW_SUFFIXES:
                add(path)
            else:
                errors.append(FlowError(str(path), "", "not a .yaml or .yml file"))
        else:
            errors.append(FlowError(str(path), "", "no such file or directory"))
    return files, errors


def _cross_file_errors(identities: Sequence[_Identity]) -> list[FlowError]:
    """Ids, keywords (case-insensitive) and voice numbers must each belong to one file."""
    errors: list[FlowError] = []
    ids: dict[str, str] = {}
    keywords: dict[str, tuple[str, str]] = {}
    numbers: dict[str, tuple[str, str]] = {}
    for identity in identities:
        source = identity.source
        if identity.id is not None:
            if identity.id in ids:
                errors.append(
                    FlowError(
                        source,
                        "id",
                        f"consultation id {identity.id!r} is also used by {ids[identity.id]}",
                    )
                )
            else:
                ids[identity.id] = source
        for path, word in identity.keywords:
            if word in keywords:
                other_source, other_path = keywords[word]
                errors.append(
                    FlowError(
                        source,
                        path,
                        f"keyword {word!r} is also used by {other_source} ({other_path}); "
                        "keywords are not case-sensitive",
                    )
                )
            else:
                keywords[word] = (source, path)
        for path, number in identity.numbers:
            if number in numbers:
                other_source, other_path = numbers[number]
                errors.append(
                    FlowError(
                        source,
                        path,
                        f"voice number {number} is also used by {other_source} ({other_path})",
                    )
                )
            else:
                numbers[number] = (source, path)
    return errors


def scan_catalog(paths: Sequence[Path]) -> CatalogScan:
    """Load what `paths` hold without raising: valid consultations and every error."""
    files, errors = _flow_files(paths)
    consultations: list[Consultation] = []
    identities: list[_Identity] = []
    for file in files:
        text, error = _read(file)
        if text is None:
            if error is not None:
                errors.append(error)
            continue
        consultation, file_errors, identity = _check_text(text, str(file), authoring=True)
        errors.extend(file_errors)
        identities.append(identity)
        if consultation is not None:
            consultations.append(consultation)
    errors.extend(_cross_file_errors(identities))
    return CatalogScan(
        files=tuple(str(f) for f in files), consultations=tuple(consultations), errors=errors
    )


def load_catalog(paths: Sequence[Path]) -> Catalog:
    """Every consultation under `paths`; raises FlowsInvalid listing all files' errors."""
    scan = scan_catalog(paths)
    if scan.errors:
        raise FlowsInvalid(scan.errors)
    return Catalog(consultations=scan.consultations)
