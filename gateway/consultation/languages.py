"""A consultation language's own settings: its name, yes/no words, command words, voice.

CivicLine ships English, Swahili and French with all of these built in. A consultation in
any other language gives them in its file (`language_settings`), with every text a
participant can meet (`messages`); `language_checking` names what is missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from gateway.consultation.messages import BUILTIN

# The command words a language may give, by the name used in the file. The words
# Twilio honours (STOP, START, HELP, ...) work in every language besides these.
COMMAND_NAMES = ("stop", "start", "help", "skip", "lang", "join")
# What a language CivicLine does not ship must give (join is optional: a keyword alone
# joins).
REQUIRED_COMMANDS = ("stop", "start", "help", "skip", "lang")


@dataclass(frozen=True)
class LanguageSettings:
    name: str = ""  # the language's own name, e.g. "العربية": LANG takes it
    yes: tuple[str, ...] = ()  # words that answer yes to a yes/no question
    no: tuple[str, ...] = ()
    words: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # "skip" -> ("تخطي",)
    voice: str | None = None  # Twilio text-to-speech voice, e.g. Polly.Zeina
    tts_language: str | None = None  # the voice's language tag, e.g. arb


def is_builtin(language: str) -> bool:
    """Whether CivicLine ships this language's texts, words and voice."""
    return language in BUILTIN
