"""Rules for re-publishing a consultation: responses must keep their meaning.

Once responses exist, a new version may add questions and options, reword prompts and
labels, move dates and add keywords, but not remove a question or an option, nor change
a question's type or scale: the stored values would then point at nothing, or at
something else.
"""

from __future__ import annotations

from collections.abc import Iterable

from gateway.consultation.model import Consultation, Question


def lost_parts(old: Consultation, new: Consultation) -> list[str]:
    """What publishing `new` over `old` would take away from existing responses."""
    lost: list[str] = []
    new_steps = {q.id: q for q in new.steps}
    for question in old.steps:
        replacement = new_steps.get(question.id)
        if replacement is None:
            lost.append(f"question {question.id!r}")
            continue
        lost.extend(_changed(question, replacement))
    return lost


def _changed(old: Question, new: Question) -> list[str]:
    if old.type != new.type:
        return [f"question {old.id!r} would change type from {old.type} to {new.type}"]
    lost = []
    new_options = {o.id for o in new.options}
    for option in old.options:
        if option.id not in new_options:
            lost.append(f"option {option.id!r} of question {old.id!r}")
    if old.min is not None and new.min is not None and (old.min, old.max) != (new.min, new.max):
        lost.append(
            f"question {old.id!r} would change its scale from {old.min}-{old.max} "
            f"to {new.min}-{new.max}"
        )
    return lost


def conflicts(new: Consultation, others: Iterable[Consultation]) -> list[str]:
    """Keywords and voice numbers must each lead to one consultation on every gateway."""
    found = []
    for other in others:
        if other.id == new.id:
            continue
        for word in sorted(set(new.keywords) & set(other.keywords)):
            found.append(f"keyword {word!r} is already used by consultation {other.id!r}")
        for number in sorted(set(new.voice.numbers) & set(other.voice.numbers)):
            found.append(f"voice number {number} is already used by consultation {other.id!r}")
    return found
