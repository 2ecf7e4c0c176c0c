"""What the next key press of a call answers, from its state alone."""

from __future__ import annotations

from gateway.consultation.model import Catalog
from gateway.consultation.voice_call import (
    CONSULTATION_MENU,
    LANGUAGE_MENU,
    CallState,
    current_target,
)
from tests.consultation.voice_calls import at_question


def test_current_target(catalog: Catalog) -> None:
    assert current_target(catalog, CallState()) == CONSULTATION_MENU
    assert current_target(catalog, CallState("water-test")) == LANGUAGE_MENU
    assert current_target(catalog, at_question(3)) == "comment"
    assert current_target(catalog, at_question(3, finished=True)) is None
