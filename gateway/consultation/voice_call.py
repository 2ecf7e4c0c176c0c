"""A voice call between two webhooks: its state, what a webhook brings, the step that answers.

`voice_conversation` turns a CallState and a CallInput into a VoiceStep; the channel turns
the step into TwiML and the store writes its state. Here too: what the next key press of
a call answers (`current_target`, the `q` of its action URLs). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from gateway.consultation.model import Catalog
from gateway.consultation.sms_conversation import Recorded
from gateway.consultation.voice_prompts import Segment

CONSULTATION_MENU = "_consultation"  # targets of a key press that are not questions
LANGUAGE_MENU = "_language"

class Collect(StrEnum):
    KEY = "key"  # gather one key, the prompt nested so an early press interrupts it
    RECORD = "record"  # speak the prompt (a key interrupts it), then record after a beep
    HANGUP = "hangup"  # speak the prompt, then end the call
    REJECT = "reject"  # refuse the call unanswered: it costs the caller nothing


@dataclass(frozen=True)
class CallState:
    """Where one call is. `step` counts the webhooks applied; action URLs carry it."""

    consultation_id: str | None = None  # None: at the consultation menu
    language: str | None = None  # None: at the language menu
    position: int = 0  # index into Consultation.steps
    silences: int = 0
    invalid_tries: int = 0
    step: int = 0
    finished: bool = False  # reached the end (thanks, goodbye)


@dataclass(frozen=True)
class Keys:
    """A Gather's result: one key, or "" when the caller pressed nothing in time."""

    digits: str = ""


@dataclass(frozen=True)
class RecordingResult:
    """A Record's result; url None when nothing was recorded (Twilio skipped the action)."""

    url: str | None
    duration: int = 0  # seconds


CallInput = Keys | RecordingResult


@dataclass(frozen=True)
class VoiceStep:
    state: CallState
    collect: Collect
    before: tuple[Segment, ...] = ()  # said first, not interruptible (e.g. "You chose ...")
    prompt: tuple[Segment, ...] = ()  # nested in the Gather, or said before the hang-up
    target: str | None = None  # what the next key answers: a question id or a menu
    consultation_id: str | None = None  # whose recorded prompts may be played
    recorded: tuple[Recorded, ...] = ()
    language_chosen: str | None = None  # remember for this caller
    callback: bool = False  # missed call: the caller asks to be called back
    interruptible: bool = True  # RECORD: the prompt sits in a Gather a key can interrupt


@dataclass(frozen=True)
class CallContext:
    """Everything the voice flow needs besides the call's own state."""

    catalog: Catalog
    now: datetime
    participant_language: str | None = None
    max_invalid_tries: int = 3
    # consultation id -> position an earlier, unfinished call of this caller reached
    resume: Mapping[str, int] = field(default_factory=dict)


def current_target(catalog: Catalog, state: CallState) -> str | None:
    """What the next key press of this call answers (the `q` of its action URL)."""
    if state.finished:
        return None
    if state.consultation_id is None:
        return CONSULTATION_MENU
    if state.language is None:
        return LANGUAGE_MENU
    consultation = catalog.get(state.consultation_id)
    if consultation is None or state.position >= len(consultation.steps):
        return None
    return consultation.steps[state.position].id
