"""Reply parsing per question type: an SMS or a keypad press -> Answer | Invalid(hint).

Forgiving, but never guessing: a reply is accepted when every reading of it points at
one answer, and refused (with a localized hint) as soon as two readings disagree.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from gateway.consultation.model import Consultation, Question, QuestionType
from gateway.consultation.render import answer_hint

# Number words per language, as normalise() leaves them. English is always accepted.
NUMBER_WORDS: dict[str, dict[str, int]] = {
    "en": {
        "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
        "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    },
    "sw": {
        "sifuri": 0, "moja": 1, "mbili": 2, "tatu": 3, "nne": 4, "tano": 5,
        "sita": 6, "saba": 7, "nane": 8, "tisa": 9, "kumi": 10,
    },
    "fr": {
        "zero": 0, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5,
        "six": 6, "sept": 7, "huit": 8, "neuf": 9, "dix": 10,
    },
}  # fmt: skip

# Yes / no words per language, as normalise() leaves them. English is always accepted.
YES_NO_WORDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "en": (
        frozenset({"yes", "y", "yeah", "yep", "ok", "okay"}),
        frozenset({"no", "n", "nope"}),
    ),
    "sw": (frozenset({"ndiyo", "ndio", "ndyo", "sawa"}), frozenset({"hapana", "la"})),
    "fr": (frozenset({"oui", "o"}), frozenset({"non"})),
}

# Option letters: a = first option ... i = ninth (MAX_OPTIONS).
LETTERS = "abcdefghi"

# Words between the two numbers of "3 out of 5" / "3/5" (the slash is read as "out of").
_OUT_OF: tuple[tuple[str, ...], ...] = (("out", "of"), ("of",), ("kati", "ya"), ("sur",))

_ASCII_NUMBER = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class Answer:
    """choice: option id; yes_no: "yes" | "no"; scale: the integer as str; text: the text."""

    value: str


@dataclass(frozen=True)
class Invalid:
    """A reply that is not an answer; `hint` (localized) says what a valid one looks like."""

    hint: str


def to_ascii_digits(text: str) -> str:
    """Every Unicode decimal digit (Arabic-Indic, Devanagari, fullwidth, ...) as 0-9."""
    out = []
    for ch in text:
        digit = unicodedata.decimal(ch, None)
        out.append(ch if digit is None else str(digit))
    return "".join(out)


def _is_separator(ch: str) -> bool:
    """Punctuation, symbols, spaces and control characters: read as a space."""
    category = unicodedata.category(ch)
    return category[0] in "PSZ" or category in ("Cc", "Co", "Cn", "Cs")


@lru_cache(maxsize=8192)  # labels and aliases are normalised again for every reply
def normalise(text: str) -> str:
    """Lower-case, accent-free, ASCII digits, single spaces between words; no punctuation."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    out = []
    for ch in text:
        category = unicodedata.category(ch)
        if category in ("Mn", "Me", "Cf"):  # accents, zero-width characters
            continue
        digit = unicodedata.decimal(ch, None)
        if digit is not None:
            out.append(str(digit))
        elif _is_separator(ch):
            out.append(" ")
        else:
            out.append(ch)
    return " ".join("".join(out).split())


def parse_sms_answer(
    consultation: Consultation, question: Question, raw: str, language: str
) -> Answer | Invalid:
    """Read an SMS reply to `question`; `language` is the participant's, for the hint."""
    if question.type is QuestionType.TEXT:
        value = _text_value(question, raw)
    else:
        text = normalise(raw)
        if question.type is QuestionType.CHOICE:
            value = _choice_value(consultation, question, text)
        elif question.type is QuestionType.YES_NO:
            value = _yes_no_value(consultation, text)
        else:
            value = _scale_value(consultation, question, raw)
    if value is None:
        language = consultation.language_or_default(language)
        return Invalid(answer_hint(consultation, question, language))
    return Answer(value)


def parse_keypad(
    consultation: Consultation, question: Question, digits: str, language: str
) -> Answer | Invalid:
    """Read one DTMF key. 0 on a skippable question is the caller's SKIP, never an answer."""
    if question.type is QuestionType.TEXT:
        raise ValueError(f"question {question.id!r} is a text question: it is not keypad-parsed")
    key = digits.strip()
    number = int(key) if len(key) == 1 and key in "0123456789" else None
    if number is not None and not (number == 0 and question.skippable):
        value: str | None = None
        if question.type is QuestionType.CHOICE:
            if 1 <= number <= len(question.options):
                value = question.options[number - 1].id
        elif question.type is QuestionType.YES_NO:
            value = {1: "yes", 2: "no"}.get(number)
        else:
            low, high = _scale_bounds(question)
            if low <= number <= high:
                value = str(number)
        if value is not None:
            return Answer(value)
    return Invalid(_keypad_hint(consultation, question, consultation.language_or_default(language)))


def _keypad_hint(consultation: Consultation, question: Question, language: str) -> str:
    if question.type is QuestionType.CHOICE:
        hint = consultation.message("keys_choice", language, max=len(question.options))
    elif question.type is QuestionType.YES_NO:
        hint = consultation.message("keys_yes_no", language)
    else:
        low, high = _scale_bounds(question)
        if question.skippable:
            low = max(low, 1)  # 0 is the skip key there
        hint = consultation.message("keys_scale", language, min=low, max=min(high, 9))
    if question.skippable:
        hint = f"{hint} {consultation.message('keys_skip', language)}"
    return hint


def _scale_bounds(question: Question) -> tuple[int, int]:
    if question.min is None or question.max is None:
        raise ValueError(f"scale question {question.id!r} has no min/max")
    return question.min, question.max


def _accepted_languages(consultation: Consultation) -> tuple[str, ...]:
    """The consultation's languages plus English, whose words people use everywhere."""
    return tuple(dict.fromkeys((*consultation.languages, "en")))


def _number_word(word: str, languages: Iterable[str]) -> int | None:
    """The number a word names in any of `languages`; None if none, or if they disagree."""
    values = {NUMBER_WORDS[lang][word] for lang in languages if word in NUMBER_WORDS.get(lang, {})}
    return values.pop() if len(values) == 1 else None


# -- choice ------------------------------------------------------------------------------


def _option_phrases(consultation: Consultation, question: Question) -> list[set[str]]:
    """Per option, its labels and aliases in every language, normalised."""
    phrases = []
    for option in question.options:
        texts = [option.label.get(lang, "") for lang in consultation.languages]
        texts += [
            alias for lang in consultation.languages for alias in option.aliases.get(lang, ())
        ]
        phrases.append({p for p in map(normalise, texts) if p})
    return phrases


def _choice_value(consultation: Consultation, question: Question, text: str) -> str | None:
    if not text:
        return None
    count = len(question.options)
    phrases = _option_phrases(consultation, question)

    # Readings of the whole reply: a number (digits or word), a letter, a label or alias.
    positions: set[int] = set()  # 1-based option numbers; may be out of range
    if _ASCII_NUMBER.fullmatch(text):
        positions.add(int(text))
    word_number = _number_word(text, _accepted_languages(consultation))
    if word_number is not None:
        positions.add(word_number)
    if len(text) == 1 and text in LETTERS:
        positions.add(LETTERS.index(text) + 1)
    candidates = {p - 1 for p in positions if 1 <= p <= count}
    candidates |= {i for i, options in enumerate(phrases) if text in options}
    if candidates:
        return question.options[candidates.pop()].id if len(candidates) == 1 else None
    if positions:
        return None  # a number or letter out of range

    # A longer reply holding a label or alias as whole words: "water please".
    return _choice_in_sentence(question, text.split(), phrases)


def _choice_in_sentence(
    question: Question, tokens: list[str], phrases: list[set[str]]
) -> str | None:
    spans: list[tuple[int, int, int]] = []  # (start, end, option index)
    for index, options in enumerate(phrases):
        for phrase in options:
            words = phrase.split()
            for start in range(len(tokens) - len(words) + 1):
                if tokens[start : start + len(words)] == words:
                    spans.append((start, start + len(words), index))
    # A match inside a longer match is part of that one: "rural roads please" is
    # "rural roads", not also "roads". Words shared by several options tell nothing.
    candidates = {
        i
        for s, e, i in spans
        if not any(s2 <= s and e <= e2 and e2 - s2 > e - s for s2, e2, _ in spans)
        and not any(s2 == s and e2 == e and i2 != i for s2, e2, i2 in spans)
    }
    if not candidates:
        return None
    # "2 Roads", copied from the option list: the number must agree with the label
    # (unless the number is part of a label, as in "18 to 34 years").
    if _ASCII_NUMBER.fullmatch(tokens[0]) and not any(s == 0 for s, _, _ in spans):
        candidates.add(int(tokens[0]) - 1)
    if len(candidates) != 1:
        return None
    index = candidates.pop()
    return question.options[index].id if 0 <= index < len(question.options) else None


# -- yes / no ----------------------------------------------------------------------------


def _yes_no_value(consultation: Consultation, text: str) -> str | None:
    yes: set[str] = set()
    no: set[str] = set()
    for lang in _accepted_languages(consultation):
        yes_words, no_words = YES_NO_WORDS.get(lang, (frozenset(), frozenset()))
        yes |= yes_words
        no |= no_words
    for lang in consultation.languages:
        yes.add(normalise(consultation.message("yes", lang)))
        no.add(normalise(consultation.message("no", lang)))
        own = consultation.language_settings.get(lang)
        if own is not None:  # a language's own yes/no words, from the file
            yes.update(normalise(word) for word in own.yes)
            no.update(normalise(word) for word in own.no)
    yes, no = yes - no, no - yes  # a word meaning both is neither
    if text in yes or text in no:  # also a localized "yes" of several words
        return "yes" if text in yes else "no"
    languages = _accepted_languages(consultation)

    def reading(token: str) -> str:
        if token in yes or token in no:
            return "yes" if token in yes else "no"
        # 1 or 2 as a choice takes them: digits, a number word, the letter a or b.
        number = _position(token, languages)
        return {1: "yes", 2: "no"}.get(number, "") if number is not None else ""

    # "yes yes", "ndiyo 1": every word says the same thing.
    readings = {reading(t) for t in text.split()}
    return readings.pop() if len(readings) == 1 and "" not in readings else None


def _position(token: str, languages: Iterable[str]) -> int | None:
    """The number one word gives an option: digits, a number word, or a letter."""
    if _ASCII_NUMBER.fullmatch(token):
        return int(token)
    if len(token) == 1 and token in LETTERS:
        return LETTERS.index(token) + 1
    return _number_word(token, languages)


# -- scale -------------------------------------------------------------------------------


def _scale_value(consultation: Consultation, question: Question, raw: str) -> str | None:
    low, high = _scale_bounds(question)
    languages = _accepted_languages(consultation)
    tokens = normalise(raw.replace("/", " out of ").replace("\uff0f", " out of ")).split()
    if not tokens:
        return None

    def number(token: str) -> int | None:
        if _ASCII_NUMBER.fullmatch(token):
            return int(token)
        return _number_word(token, languages)

    value: int | None = None
    numbers = [(i, n) for i, t in enumerate(tokens) if (n := number(t)) is not None]
    if len(tokens) == 1:
        value = number(tokens[0])
    elif len(numbers) == 2 and numbers[1][1] == high:
        # "3/5", "3 out of 5", "tatu kati ya tano", "3 sur 5": the top of the scale after.
        (first, n), (second, _) = numbers
        if tuple(tokens[first + 1 : second]) in _OUT_OF:
            value = n
    if value is None and len(tokens) > 1:
        # "4 stars", "I give 4": digits only (number words double as pronouns and
        # articles: "this one", "un bon service"); the first integer, provided the
        # reply holds at most one in-range candidate.
        digits = [int(t) for t in tokens if _ASCII_NUMBER.fullmatch(t)]
        if digits and sum(low <= d <= high for d in digits) <= 1:
            value = digits[0]
    if value is None or not low <= value <= high:
        return None
    return str(value)


# -- text --------------------------------------------------------------------------------


def _text_value(question: Question, raw: str) -> str | None:
    text = " ".join(raw.split())
    if not any(_is_content(ch) for ch in text):
        return None
    return text[: question.max_length].rstrip()


def _is_content(ch: str) -> bool:
    """Letters, digits and pictographs (emoji) carry an answer; punctuation does not."""
    category = unicodedata.category(ch)
    return category[0] in "LN" or category == "So"


def answer_label(consultation: Consultation, question: Question, value: str, language: str) -> str:
    """An answer as participants read or hear it in `language`: the option's label,
    Yes/No, or the number (a value the question does not know, as it is)."""
    if question.type is QuestionType.CHOICE:
        option = question.option(value)
        return option.label[language] if option is not None else value
    if question.type is QuestionType.YES_NO and value in ("yes", "no"):
        return consultation.message(value, language)
    return value
