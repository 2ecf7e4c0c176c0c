"""Driving a voice call in tests: a context at a fixed time, a state at a question, a key.

Shared by the tests of voice_call and voice_conversation (the `catalog` fixture is in
conftest.py).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from gateway.consultation.model import Catalog
from gateway.consultation.voice_call import CallContext, CallInput, CallState, Keys, VoiceStep
from gateway.consultation.voice_conversation import advance_call
from gateway.consultation.voice_prompts import Speech

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def ctx(catalog: Catalog, **changes: object) -> CallContext:
    return replace(CallContext(catalog, NOW), **changes)  # type: ignore[arg-type]


def texts(segments: tuple) -> list[str]:
    return [s.text for s in segments if isinstance(s, Speech)]


def said(step: VoiceStep) -> str:
    return " ".join(texts(step.before) + texts(step.prompt))


def at_question(position: int, language: str = "en", **changes: object) -> CallState:
    return CallState("water-test", language, position, step=5, **changes)  # type: ignore[arg-type]


def press(catalog: Catalog, state: CallState, given: CallInput | str, **ctx_changes: object):
    given = Keys(given) if isinstance(given, str) else given
    return advance_call(ctx(catalog, **ctx_changes), state, given)
