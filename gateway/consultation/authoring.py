"""The rules for consultation definitions being written, not for those read back.

Some rules came after consultations were first published. They apply to definitions
being written (`authoring=True`: files, `flows check`, FLOWS_DIR, `central publish`),
not to definitions read back from a store: a published consultation that stopped
validating could no longer be read, tallied, synced or re-published with a fix.

They run on a consultation that passed every other check (see `checking.check_text`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from gateway.consultation.answers import Answer, normalise, parse_sms_answer
from gateway.consultation.model import Consultation, Question, QuestionType
from gateway.consultation.reading import index_path, key_path

Report = Callable[[str, str], None]  # (path inside the document, message)

_TWO_MEANINGS = (
    "a participant texting it would answer {question} while on it, and be read as the "
    "keyword anywhere else"
)


def keywords_that_answer(
    consultation: Consultation, keywords: Sequence[tuple[str, str]], report: Report
) -> None:
    """No keyword (`keywords`: (path, KEYWORD)) may also be an answer to one of the questions.

    Mid-consultation the engine reads such a word as the answer to the current
    question (gateway/consultation/sms_conversation.py), so the keyword cannot resend or
    restart the consultation there, and elsewhere it is the keyword, never the
    answer. Compared as the answer parser and the keyword matcher see texts.
    """
    by_name = {normalise(word): (path, word) for path, word in keywords}
    sections = (("questions", consultation.questions), ("profile", consultation.profile))
    for section, questions in sections:
        for index, question in enumerate(questions):
            if question.type is QuestionType.TEXT:  # any text answers: the engine's rule
                continue
            path = index_path(section, index)
            named = _labels_that_are_keywords(question, path, by_name, report)
            for key, (keyword_path, word) in by_name.items():
                if key in named:
                    continue
                parsed = parse_sms_answer(
                    consultation, question, word, consultation.default_language
                )
                if isinstance(parsed, Answer):
                    report(
                        keyword_path,
                        f"{word!r} would also be read as an answer to {path} "
                        f"({question.id!r}): {_shown(consultation, question, parsed)}; "
                        f"{_TWO_MEANINGS.format(question='that question')}: change the "
                        "keyword",
                    )


def _labels_that_are_keywords(
    question: Question, path: str, keywords: Mapping[str, tuple[str, str]], report: Report
) -> set[str]:
    """Report each label and alias of `question` that is a keyword; those keywords."""
    found: set[str] = set()
    for index, option in enumerate(question.options):
        where = index_path(key_path(path, "options"), index)
        names = [
            ("label", text, key_path(key_path(where, "label"), lang))
            for lang, text in option.label.items()
        ]
        names += [
            ("alias", word, index_path(key_path(key_path(where, "aliases"), lang), position))
            for lang, words in option.aliases.items()
            for position, word in enumerate(words)
        ]
        for kind, text, name_path in names:
            key = normalise(text)
            if key not in keywords:
                continue
            found.add(key)
            remedy = "remove the alias" if kind == "alias" else "reword the label"
            report(
                name_path,
                f"{text!r} is also the keyword {keywords[key][1]}; "
                f"{_TWO_MEANINGS.format(question='this question')}: {remedy} or change "
                "the keyword",
            )
    return found


def _shown(consultation: Consultation, question: Question, answer: Answer) -> str:
    """How an answer is named in an error: `option 1, 'Water points'`, or its value."""
    if question.type is QuestionType.CHOICE:
        position, option = next(
            (n, o) for n, o in enumerate(question.options, 1) if o.id == answer.value
        )
        return f"option {position}, {option.label[consultation.default_language]!r}"
    return repr(answer.value)
