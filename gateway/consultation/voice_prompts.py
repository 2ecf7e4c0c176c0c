"""What a voice call says: spoken text and pauses, and the prompt of each question.

Each Speech is in one language, so each is read by that language's voice; `audio` names
a recorded prompt (see `audio`) that replaces text-to-speech when it exists. Options are
read out from their labels ("For Water points, press 1.").
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.consultation.messages import builtin_message
from gateway.consultation.model import Consultation, Question, QuestionType


@dataclass(frozen=True)
class Speech:
    """Text to speak in `language`; `audio` names a recorded prompt that may replace it."""

    text: str
    language: str
    audio: str | None = None


@dataclass(frozen=True)
class Pause:
    """Silence between two segments."""

    seconds: int = 1


Segment = Speech | Pause


def question_prompt(
    consultation: Consultation, question: Question, language: str, *, first: bool = True
) -> tuple[Segment, ...]:
    """The prompt, a pause, the keys (options read out from labels), "press star to repeat".

    "Press star to repeat" only when the question is `first` read, not at each re-read.
    The prompt may be replaced by a recording named after the question, the keys by one
    named `<question>.options`.
    """
    def message(name: str, **values: object) -> str:
        return consultation.message(name, language, **values)

    keys: list[str] = []
    if question.type is QuestionType.CHOICE:
        keys = [message("voice_option", label=option.label[language], key=key)
                for key, option in enumerate(question.options, 1)]
    elif question.type is QuestionType.YES_NO:
        keys = [message("keys_yes_no")]
    elif question.type is QuestionType.SCALE:
        low, high = _scale_keys(question)
        keys = [message("keys_scale", min=low, max=high)]
    if question.skippable:
        keys.append(message("keys_skip"))
    segments: list[Segment] = [
        Speech(question.prompt[language], language, audio=question.id),
        Pause(1),
    ]
    if keys:
        segments.append(Speech(" ".join(keys), language, audio=f"{question.id}.options"))
    if first:
        segments.append(repeat_hint(language, consultation))
    if question.type is QuestionType.TEXT:  # last, right before the beep
        segments.append(Speech(message("voice_record"), language))
    return tuple(segments)


def said(name: str, language: str, consultation: Consultation | None = None) -> Speech:
    """Message `name` spoken: the consultation's text when given, else the built-in one."""
    text = (consultation.message(name, language) if consultation is not None
            else builtin_message(name, language))
    return Speech(text, language)


def repeat_hint(language: str, consultation: Consultation | None = None) -> Speech:
    """"Press star to repeat."."""
    return said("voice_repeat", language, consultation)


def _scale_keys(question: Question) -> tuple[int, int]:
    """The keys a scale question takes: its bounds, with 0 kept for skipping."""
    low = question.min if question.min is not None else 1
    high = question.max if question.max is not None else 9
    if question.skippable:
        low = max(low, 1)
    return low, min(high, 9)


