"""Command words: whole messages only, every language, and LANG's argument."""

from __future__ import annotations

import pytest

from gateway.consultation.keywords import (
    RESERVED_WORDS,
    Command,
    Keyword,
    consultation_commands,
    language_names,
    match_keyword,
    resolve_language,
)

KEYWORDS = ("WATER", "MAJI", "NEW-ROADS")

OPT_OUT_WORDS = [
    "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT",
    "SITISHA", "ARRET", "ARRETER",
]  # fmt: skip
OPT_IN_WORDS = ["START", "UNSTOP"]
HELP_WORDS = ["HELP", "INFO", "MSAADA", "AIDE"]
SKIP_WORDS = ["SKIP", "RUKA", "PASSER"]
LANG_WORDS = ["LANG", "LANGUAGE", "LUGHA", "LANGUE"]
JOIN_WORDS = ["JOIN", "JIUNGE", "REJOINDRE"]


def spellings(word: str) -> list[str]:
    """The ways a participant might send one word."""
    return [word, word.lower(), word.capitalize(), f"{word.lower()}!", f" {word.lower()}. "]


def cases(words: list[str]) -> list[str]:
    return [text for word in words for text in spellings(word)]


@pytest.mark.parametrize("text", cases(OPT_OUT_WORDS))
def test_opt_out_words(text: str) -> None:
    assert match_keyword(text, KEYWORDS) == Keyword(Command.OPT_OUT)


@pytest.mark.parametrize("text", ["Arrêt", "ARRÊTER", "arrêter !", "Arre\u0302t"])
def test_opt_out_french_with_accents(text: str) -> None:
    assert match_keyword(text, KEYWORDS) == Keyword(Command.OPT_OUT)


@pytest.mark.parametrize("text", cases(OPT_IN_WORDS))
def test_opt_in_words(text: str) -> None:
    assert match_keyword(text, KEYWORDS) == Keyword(Command.OPT_IN)


@pytest.mark.parametrize("text", spellings("YES"))
def test_yes_opts_in_only_when_opted_out(text: str) -> None:
    keyword = match_keyword(text, KEYWORDS)
    assert keyword == Keyword(Command.OPT_IN, only_when_opted_out=True)


@pytest.mark.parametrize("text", ["START", "UNSTOP", "STOP", "HELP"])
def test_other_commands_are_unconditional(text: str) -> None:
    keyword = match_keyword(text, KEYWORDS)
    assert keyword is not None
    assert keyword.only_when_opted_out is False


@pytest.mark.parametrize("text", ["ANZA", "anza", "ndiyo", "oui"])
def test_words_that_are_natural_answers_are_not_commands(text: str) -> None:
    assert match_keyword(text, KEYWORDS) is None


@pytest.mark.parametrize("text", cases(HELP_WORDS))
def test_help_words(text: str) -> None:
    assert match_keyword(text, KEYWORDS) == Keyword(Command.HELP)


@pytest.mark.parametrize("text", cases(SKIP_WORDS))
def test_skip_words(text: str) -> None:
    assert match_keyword(text, KEYWORDS) == Keyword(Command.SKIP)


@pytest.mark.parametrize("word", LANG_WORDS)
def test_lang_words_with_an_argument(word: str) -> None:
    assert match_keyword(f"{word} sw", KEYWORDS) == Keyword(Command.LANG, "sw")
    assert match_keyword(f"{word.lower()} Kiswahili", KEYWORDS) == Keyword(
        Command.LANG, "Kiswahili"
    )
    assert match_keyword(f" {word}:  Français. ", KEYWORDS) == Keyword(Command.LANG, "Français")
    assert match_keyword(f"{word} 2", KEYWORDS) == Keyword(Command.LANG, "2")


@pytest.mark.parametrize("text", cases(LANG_WORDS))
def test_lang_alone(text: str) -> None:
    assert match_keyword(text, KEYWORDS) == Keyword(Command.LANG, "")


@pytest.mark.parametrize("word", JOIN_WORDS)
def test_join_words_with_a_known_keyword(word: str) -> None:
    assert match_keyword(f"{word} WATER", KEYWORDS) == Keyword(Command.JOIN, "WATER")
    assert match_keyword(f"{word.lower()} maji!", KEYWORDS) == Keyword(Command.JOIN, "MAJI")
    assert match_keyword(f"{word} new-roads", KEYWORDS) == Keyword(Command.JOIN, "NEW-ROADS")
    assert match_keyword(f"{word} new roads", KEYWORDS) == Keyword(Command.JOIN, "NEW-ROADS")


@pytest.mark.parametrize("word", JOIN_WORDS)
def test_join_words_with_an_unknown_keyword_keep_it_upper_case(word: str) -> None:
    assert match_keyword(f"{word} eau", KEYWORDS) == Keyword(Command.JOIN, "EAU")
    assert match_keyword(f"{word} Roads.", KEYWORDS) == Keyword(Command.JOIN, "ROADS")


@pytest.mark.parametrize("text", cases(JOIN_WORDS))
def test_join_alone(text: str) -> None:
    assert match_keyword(text, KEYWORDS) == Keyword(Command.JOIN, "")


@pytest.mark.parametrize(
    ("text", "keyword"),
    [
        ("WATER", "WATER"),
        ("water", "WATER"),
        ("Water!", "WATER"),
        ("  maji. ", "MAJI"),
        ("new-roads", "NEW-ROADS"),
        ("New Roads", "NEW-ROADS"),
    ],
)
def test_a_consultation_keyword_alone_joins(text: str, keyword: str) -> None:
    assert match_keyword(text, KEYWORDS) == Keyword(Command.JOIN, keyword)


def test_consultation_keywords_are_upper_cased_and_only_the_given_ones_join() -> None:
    assert match_keyword("water", ["water"]) == Keyword(Command.JOIN, "WATER")
    assert match_keyword("water", []) is None
    assert match_keyword("roads", KEYWORDS) is None


@pytest.mark.parametrize(
    "text",
    [
        "stop the pipeline works",
        "please stop",
        "STOP STOP",
        "help me",
        "skip this one",
        "yes please",
        "lang sw please",
        "join the water consultation",
        "water is dirty",
        "maji safi",
        "start the borehole",
        "",
        "   ",
        "!!!",
    ],
)
def test_a_sentence_containing_a_keyword_is_an_ordinary_reply(text: str) -> None:
    assert match_keyword(text, KEYWORDS) is None


def test_reserved_words_hold_every_command_word_upper_case() -> None:
    every = OPT_OUT_WORDS + OPT_IN_WORDS + HELP_WORDS + SKIP_WORDS + LANG_WORDS + JOIN_WORDS
    assert set(every) | {"YES"} <= RESERVED_WORDS
    assert {"ARRÊT", "ARRÊTER"} <= RESERVED_WORDS
    assert all(word == word.upper() for word in RESERVED_WORDS)
    assert RESERVED_WORDS.isdisjoint(KEYWORDS)


def test_every_reserved_word_is_a_command() -> None:
    for word in RESERVED_WORDS:
        keyword = match_keyword(word, ())
        assert keyword is not None, word
        assert keyword.argument == "", word


def test_command_values() -> None:
    assert [c.value for c in Command] == ["opt_out", "opt_in", "help", "join", "lang", "skip"]


# -- resolve_language --------------------------------------------------------------------

LANGUAGES = ("en", "sw", "fr")


@pytest.mark.parametrize(
    ("argument", "expected"),
    [
        ("sw", "sw"),
        ("SW", "sw"),
        (" fr. ", "fr"),
        ("en", "en"),
        ("Kiswahili", "sw"),
        ("swahili", "sw"),
        ("KISW", "sw"),
        ("FRANCAIS", "fr"),
        ("français", "fr"),
        ("French", "fr"),
        ("kifaransa", "fr"),
        ("English", "en"),
        ("kiingereza", "en"),
        ("anglais", "en"),
        ("1", "en"),
        ("2", "sw"),
        ("3", "fr"),
        ("٢", "sw"),
        ("#2", "sw"),
    ],
)
def test_resolve_language(argument: str, expected: str) -> None:
    assert resolve_language(argument, LANGUAGES) == expected


@pytest.mark.parametrize("argument", ["", "  ", "0", "4", "12", "de", "Deutsch", "sw fr", "-1x"])
def test_resolve_language_unknown(argument: str) -> None:
    assert resolve_language(argument, LANGUAGES) is None


def test_resolve_language_only_returns_the_consultations_languages() -> None:
    assert resolve_language("fr", ("en", "sw")) is None
    assert resolve_language("francais", ("en", "sw")) is None
    assert resolve_language("3", ("en", "sw")) is None
    assert resolve_language("1", ("sw", "en")) == "sw"
    assert resolve_language("kiswahili", ("sw",)) == "sw"


def test_lang_keyword_argument_resolves() -> None:
    keyword = match_keyword("LUGHA Kiswahili!", KEYWORDS)
    assert keyword is not None
    assert resolve_language(keyword.argument, ("en", "sw")) == "sw"


# --- words a consultation brings for its own languages -------------------------------------


def _arabic_catalog():
    from gateway.consultation.catalogue import load_catalog
    from tests.conftest import UNSEEN_LANGUAGE_FLOWS

    return load_catalog([UNSEEN_LANGUAGE_FLOWS])


@pytest.mark.parametrize(
    ("text", "command"),
    [("توقف", Command.OPT_OUT), ("ابدأ", Command.OPT_IN), ("مساعدة!", Command.HELP),
     ("تخطي", Command.SKIP), ("لغة", Command.LANG)],
)
def test_a_consultations_own_command_words(text: str, command: Command) -> None:
    more = consultation_commands(_arabic_catalog())
    keyword = match_keyword(text, ("ماء",), more)
    assert keyword is not None and keyword.command is command
    assert match_keyword(text, ("ماء",)) is None  # not without the consultation's words


def test_lang_takes_a_languages_own_name() -> None:
    catalog = _arabic_catalog()
    names = language_names(catalog)
    assert names == {"ar": ("العربية",)}
    keyword = match_keyword("لغة العربية", ("ماء",), consultation_commands(catalog))
    assert keyword == Keyword(Command.LANG, "العربية")
    assert resolve_language("العربية", ("ar", "en"), names) == "ar"
    assert resolve_language("العربية", ("ar", "en")) is None
    assert resolve_language("english", ("ar", "en"), names) == "en"


def test_an_arabic_keyword_joins() -> None:
    assert match_keyword("ماء", ("ماء", "WELL")) == Keyword(Command.JOIN, "ماء")
