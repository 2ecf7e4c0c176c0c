"""Command words (STOP, HELP, JOIN, LANG, ...) in every language CivicLine ships with,
and in those a consultation brings (`language_settings.<language>.words`).

A command is a whole message: "Stop!" opts out, "stop the pipeline works" is an
ordinary reply. Commands are recognised in every language whatever the consultation's,
because a participant who wants to stop must be able to, in any words we know.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from gateway.consultation.answers import normalise
from gateway.consultation.messages import LANGUAGE_NAMES
from gateway.consultation.model import Catalog


class Command(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    JOIN = "join"
    LANG = "lang"
    SKIP = "skip"


@dataclass(frozen=True)
class Keyword:
    command: Command
    # JOIN: the consultation keyword, upper case ("" if none given); LANG: the
    # language argument as typed, stripped.
    argument: str = ""
    # "YES" opts in only an opted-out number; from anyone else it is an ordinary reply.
    only_when_opted_out: bool = False


# Command words per language ("twilio": the words Twilio itself honours by default).
# Words are written as people type them; matching ignores case and accents.
COMMAND_WORDS: dict[str, dict[Command, tuple[str, ...]]] = {
    "twilio": {
        Command.OPT_OUT: (
            "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT",
        ),
        Command.OPT_IN: ("START", "UNSTOP"),
        Command.HELP: ("HELP", "INFO"),
    },
    "en": {
        Command.SKIP: ("SKIP",),
        Command.LANG: ("LANG", "LANGUAGE"),
        Command.JOIN: ("JOIN",),
    },
    "sw": {
        Command.OPT_OUT: ("SITISHA",),  # not ANZA ("start"): it is a natural answer
        Command.HELP: ("MSAADA",),
        Command.SKIP: ("RUKA",),
        Command.LANG: ("LUGHA",),
        Command.JOIN: ("JIUNGE",),
    },
    "fr": {
        Command.OPT_OUT: ("ARRÊT", "ARRÊTER"),
        Command.HELP: ("AIDE",),
        Command.SKIP: ("PASSER",),
        Command.LANG: ("LANGUE",),
        Command.JOIN: ("REJOINDRE",),
    },
}  # fmt: skip

# Opts in only a number that has opted out (Twilio honours it too).
OPT_IN_WHEN_OPTED_OUT: tuple[str, ...] = ("YES",)

# Commands that take one argument word: "LANG sw", "JOIN WATER".
_WITH_ARGUMENT = (Command.LANG, Command.JOIN)

_COMMANDS: dict[str, Command] = {
    normalise(word): command
    for table in COMMAND_WORDS.values()
    for command, words in table.items()
    for word in words
}
_OPT_IN_WHEN_OPTED_OUT = frozenset(normalise(word) for word in OPT_IN_WHEN_OPTED_OUT)

# Every command word, upper case, as written and without accents: consultation keywords
# must not be one of these.
RESERVED_WORDS: frozenset[str] = frozenset(
    {word.upper() for table in COMMAND_WORDS.values() for words in table.values() for word in words}
    | {word.upper() for word in OPT_IN_WHEN_OPTED_OUT}
    | {word.upper() for word in _COMMANDS}
    | {word.upper() for word in _OPT_IN_WHEN_OPTED_OUT}
)


def _separates(ch: str) -> bool:
    """Punctuation, symbols, spaces: what normalise() turns into a space (not accents)."""
    return normalise(ch) == "" and unicodedata.category(ch) not in ("Mn", "Me", "Cf")


def _words(text: str) -> list[tuple[str, str]]:
    """The words of a message as (as typed, normalised), split where normalise() would."""
    pairs = []
    spaced = "".join(" " if _separates(ch) else ch for ch in text)
    for raw in spaced.split():
        pairs.extend((raw, word) for word in normalise(raw).split())
    return pairs


def _consultation_keyword(words: str, consultation_keywords: Collection[str]) -> str | None:
    if not words:
        return None
    return next((k.upper() for k in consultation_keywords if normalise(k) == words), None)


# language_settings' names of commands
_COMMAND_NAMES: dict[str, Command] = {
    "stop": Command.OPT_OUT, "start": Command.OPT_IN, "help": Command.HELP,
    "skip": Command.SKIP, "lang": Command.LANG, "join": Command.JOIN,
}  # fmt: skip


def consultation_commands(catalog: Catalog) -> dict[str, Command]:
    """The command words the catalog's consultations give for their languages, normalised."""
    return {
        normalise(word): _COMMAND_NAMES[name]
        for consultation in catalog.consultations
        for settings in consultation.language_settings.values()
        for name, words in settings.words.items()
        for word in words
    }


def language_names(catalog: Catalog) -> dict[str, tuple[str, ...]]:
    """The names a consultation gives its languages, as LANG may take them."""
    names: dict[str, tuple[str, ...]] = {}
    for consultation in catalog.consultations:
        for code, settings in consultation.language_settings.items():
            if settings.name:
                names[code] = (*names.get(code, ()), settings.name)
    return names


def match_keyword(
    text: str, consultation_keywords: Collection[str],
    more_commands: Mapping[str, Command] | None = None,
) -> Keyword | None:
    """The command a whole message is, or None for an ordinary reply. `more_commands`:
    normalised words of the consultations' own languages (`consultation_commands`)."""
    words = _words(text)
    if not words:
        return None
    first = words[0][1]
    command = _COMMANDS.get(first) or (more_commands or {}).get(first)
    if len(words) == 1:
        if command is not None and command not in _WITH_ARGUMENT:
            return Keyword(command)
        if first in _OPT_IN_WHEN_OPTED_OUT:
            return Keyword(Command.OPT_IN, only_when_opted_out=True)
    if command is Command.LANG:
        if len(words) == 1:
            return Keyword(Command.LANG)
        return Keyword(Command.LANG, words[1][0]) if len(words) == 2 else None
    if command is Command.JOIN:
        rest = words[1:]
        known = _consultation_keyword(" ".join(w for _, w in rest), consultation_keywords)
        if known is not None:
            return Keyword(Command.JOIN, known)
        if len(rest) <= 1:
            return Keyword(Command.JOIN, rest[0][0].upper() if rest else "")
        return None
    known = _consultation_keyword(" ".join(w for _, w in words), consultation_keywords)
    return None if known is None else Keyword(Command.JOIN, known)


def resolve_language(
    argument: str, languages: Sequence[str], more_names: Mapping[str, Sequence[str]] | None = None
) -> str | None:
    """A language code of `languages` from a code, a name or a 1-based index; else None.
    `more_names`: names consultations give their languages (`language_names`)."""
    word = normalise(argument)
    if not word:
        return None
    if word.isascii() and word.isdigit():
        index = int(word)
        return languages[index - 1] if 1 <= index <= len(languages) else None
    for code in languages:
        given = (*LANGUAGE_NAMES.get(code, ()), *(more_names or {}).get(code, ()))
        names = {normalise(code), *(normalise(name) for name in given)}
        if word in names:
            return code
    return None
