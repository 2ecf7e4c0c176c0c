"""Texts the engine sends by SMS, rendered from a question's labels."""

from __future__ import annotations

from gateway.consultation.model import Consultation, Question, QuestionType


def option_list(question: Question, language: str) -> str:
    """`1 Water points 2 Roads` for choices; `1 Yes 2 No` style for yes/no is in the hint."""
    return " ".join(f"{n} {o.label[language]}" for n, o in enumerate(question.options, 1))


def answer_hint(consultation: Consultation, question: Question, language: str) -> str:
    """What a valid reply looks like, e.g. `Reply 1 to 4.`, plus how to skip."""
    if question.type is QuestionType.CHOICE:
        hint = consultation.message("hint_choice", language, max=len(question.options))
    elif question.type is QuestionType.YES_NO:
        hint = consultation.message("hint_yes_no", language)
    elif question.type is QuestionType.SCALE:
        hint = consultation.message("hint_scale", language, min=question.min, max=question.max)
    else:
        hint = consultation.message("hint_text", language)
    if question.skippable:
        hint = f"{hint} {consultation.message('hint_skip', language)}"
    return hint


def sms_question(consultation: Consultation, question: Question, language: str) -> str:
    """One question as one SMS: prompt, options, and (for non-choice types) the hint."""
    parts = [question.prompt[language]]
    if question.type is QuestionType.CHOICE:
        parts.append(option_list(question, language))
        if question.skippable:
            parts.append(consultation.message("hint_skip", language))
    else:
        parts.append(answer_hint(consultation, question, language))
    return " ".join(parts)


def keyword(consultation: Consultation, language: str) -> str:
    """The keyword to name to a participant of `language`: one listed under it, else the first."""
    languages = consultation.keyword_languages
    return next((k for k in consultation.keywords if languages.get(k) == language),
                consultation.keywords[0])


def resume(consultation: Consultation, position: int, language: str) -> str:
    """Where a returning participant was, in one sentence, and the question they are on."""
    notice = consultation.message("resume", language, number=position + 1,
                                  count=len(consultation.steps))
    return f"{notice} {sms_question(consultation, consultation.steps[position], language)}"


def welcome(consultation: Consultation, language: str) -> str:
    """The reply to a keyword: the welcome and the first question, in one SMS."""
    greeting = consultation.message("welcome", language, count=len(consultation.steps))
    return f"{greeting} {sms_question(consultation, consultation.steps[0], language)}"


def sms_texts(consultation: Consultation) -> dict[str, str]:
    """Every SMS text a consultation can send, keyed `language/name`, for segment checks."""
    texts: dict[str, str] = {}
    for language in consultation.languages:
        texts[f"{language}/welcome"] = welcome(consultation, language)
        if len(consultation.steps) > 1:  # the longest question is checked on its own
            texts[f"{language}/resume"] = consultation.message(
                "resume", language, number=len(consultation.steps), count=len(consultation.steps)
            )
        for question in consultation.steps:
            texts[f"{language}/{question.id}"] = sms_question(consultation, question, language)
        for name in ("help", "thanks", "closed"):
            texts[f"{language}/{name}"] = consultation.message(
                name, language, keyword=keyword(consultation, language)
            )
    return texts
