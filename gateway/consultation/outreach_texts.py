"""What a consultation says when it reaches out: `timezone:`, `invitation:`, `reminder:` and
`results:` (docs/outreach.md, section 1).

Reading them is in two steps. `read_outreach` checks the blocks as written (a text per
language, the placeholders each may use, STOP in an invitation or reminder, a known time
zone) before the consultation is built; `check_outreach_segments` then fills each text as
the centre will (the title, the language's keyword; results with the longest answer label
and 6-digit counts) and refuses any that would need more than one SMS segment. A reminder
the file does not give is the built-in one of each built-in language
(`messages.builtin_reminder`); it is only warned about when too long.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gateway.consultation import segments
from gateway.consultation.answers import answer_label
from gateway.consultation.messages import builtin_reminder, placeholders
from gateway.consultation.model import Consultation, Question, QuestionType
from gateway.consultation.reading import key_path
from gateway.consultation.value_checking import ValueChecker, describe

OUTREACH_KEYS = ("timezone", "invitation", "reminder", "results")
KINDS = ("invitation", "reminder", "results")

# Block -> the placeholders its texts may use.
PLACEHOLDERS: dict[str, frozenset[str]] = {
    "invitation": frozenset({"title", "keyword"}),
    "reminder": frozenset({"title", "keyword"}),
    "results": frozenset({"title", "participants", "top_option", "top_percent"}),
}
MUST_SAY_STOP = ("invitation", "reminder")
_STOP = re.compile(r"\bSTOP\b")

# The widest values results texts are checked with: 6-digit counts, a 3-digit percentage.
WIDEST_COUNT = "999999"
WIDEST_PERCENT = "100"

ErrorSink = Callable[[str, str], None]


def a_kind(kind: str) -> str:
    """`an invitation`, `a reminder`: a kind in a sentence."""
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def says_stop(text: str) -> bool:
    """Whether `text` tells people how to stop: the word STOP, in capitals."""
    return _STOP.search(text) is not None


def parse_timezone(value: object) -> tuple[tzinfo | None, str | None]:
    """(the zone, None), or (None, why `value` is not an IANA time zone name)."""
    if not isinstance(value, str) or not value.strip():
        return (
            None,
            f"expected an IANA time zone name such as Africa/Nairobi, got {describe(value)}",
        )
    name = value.strip()
    try:
        return ZoneInfo(name), None
    except (ZoneInfoNotFoundError, ValueError):
        return None, f"{name!r} is not a known IANA time zone name (e.g. Africa/Nairobi, UTC)"


def read_outreach(
    checker: ValueChecker, root: Mapping[str, Any], languages: tuple[str, ...] | None
) -> dict[str, Any]:
    """The Consultation fields of the blocks in `root` (absent blocks are left out);
    every problem goes to `checker`."""
    fields: dict[str, Any] = {}
    if root.get("timezone") is not None:
        zone, problem = parse_timezone(root["timezone"])
        if problem:
            checker.error("timezone", problem)
        fields["timezone"] = zone
    for kind in KINDS:
        if root.get(kind) is None:
            continue
        texts = checker.localized(root[kind], kind, languages)
        if texts is None:
            continue
        for language, text in texts.items():
            problem = template_problem(kind, text)
            if problem:
                checker.error(key_path(kind, language), problem)
        fields[kind] = texts
    return fields


def template_problem(kind: str, text: str) -> str | None:
    """Why `text` cannot be a `kind` text (placeholders, STOP), or None."""
    allowed = PLACEHOLDERS[kind]
    allowed_text = ", ".join("{" + p + "}" for p in sorted(allowed))
    try:
        used = placeholders(text)
    except ValueError as exc:
        return f"malformed braces ({exc}); write {{{{ or }}}} for a literal brace"
    unknown = sorted(used - allowed)
    if unknown:
        shown = ", ".join("{" + p + "}" for p in unknown)
        return f"unknown placeholder {shown}; {kind} texts may use {allowed_text}"
    try:
        text.format(**{name: "" for name in allowed})
    except (IndexError, KeyError, ValueError) as exc:
        return f"placeholders must be named ({exc}); {kind} texts may use {allowed_text}"
    if kind in MUST_SAY_STOP and not says_stop(text):
        return f'{a_kind(kind)} must tell people how to stop: add "Reply STOP to stop."'
    return None


# --- filling the texts -------------------------------------------------------------------


def keyword_for(consultation: Consultation, language: str) -> str:
    """The keyword to text in `language`: the first listed under it, else the first."""
    return next(
        (
            word
            for word in consultation.keywords
            if consultation.keyword_languages.get(word) == language
        ),
        consultation.keywords[0],
    )


def fill(
    consultation: Consultation, kind: str, language: str, template: str, **values: object
) -> str:
    """`template` with its placeholders filled for `language`."""
    known: dict[str, object] = {
        "title": consultation.title[language],
        "keyword": keyword_for(consultation, language),
    }
    known.update(values)
    return template.format(**{name: known.get(name, "") for name in PLACEHOLDERS[kind]})


def results_question(consultation: Consultation) -> Question | None:
    """The question results texts report on: the first with answers to count (not text)."""
    return next((q for q in consultation.questions if q.type is not QuestionType.TEXT), None)


def answer_ids(question: Question) -> list[str]:
    if question.type is QuestionType.CHOICE:
        return [o.id for o in question.options]
    if question.type is QuestionType.YES_NO:
        return ["yes", "no"]
    assert question.min is not None and question.max is not None
    return [str(v) for v in range(question.min, question.max + 1)]


def widest_results(consultation: Consultation, language: str, template: str) -> str:
    """A results text as long as it can be: the longest label, 6-digit counts."""
    question = results_question(consultation)
    labels = (
        []
        if question is None
        else [answer_label(consultation, question, v, language) for v in answer_ids(question)]
    )
    longest = max(labels, key=segments.length, default="")
    return fill(
        consultation,
        "results",
        language,
        template,
        participants=WIDEST_COUNT,
        top_option=longest,
        top_percent=WIDEST_PERCENT,
    )


def check_outreach_segments(
    consultation: Consultation, written: Mapping[str, Any], error: ErrorSink
) -> bool:
    """Each text the file wrote, filled, fits one SMS segment; False after an error."""
    valid = True
    for kind in KINDS:
        for language, template in written.get(kind, {}).items():
            where = key_path(kind, language)
            if (
                kind == "results"
                and results_question(consultation) is None
                and (placeholders(template) & {"top_option", "top_percent"})
            ):
                error(
                    where,
                    "{top_option} and {top_percent} need a question with answers to "
                    "count (choice, yes_no or scale)",
                )
                valid = False
                continue
            if kind == "results":
                text = widest_results(consultation, language, template)
            else:
                text = fill(consultation, kind, language, template)
            problem = segment_problem(text)
            if problem:
                error(where, problem)
                valid = False
    return valid


def segment_problem(text: str) -> str | None:
    count = segments.segment_count(text)
    if count <= 1:
        return None
    encoding = segments.encoding(text)
    limit = segments.GSM_SINGLE if encoding == "GSM-7" else segments.UCS2_SINGLE
    reason = f"needs {count} SMS segments ({encoding}, {segments.length(text)} of {limit})"
    odd = segments.non_gsm_characters(text)
    if odd:
        reason += "; not in GSM-7: " + ", ".join(repr(c) for c in odd[:5])
    return f"{reason}; it must fit one segment, filled: {text}"


def reminder_warnings(consultation: Consultation) -> list[str]:
    """A `flows check` warning for each built-in reminder too long for one segment."""
    warnings = []
    for language, template in consultation.reminder.items():
        if template != builtin_reminder(language):
            continue  # written in the file: checked as an error
        problem = segment_problem(fill(consultation, "reminder", language, template))
        if problem:
            warnings.append(
                f"{consultation.id} built-in reminder ({language}) {problem}; "
                f"write reminder.{language}"
            )
    return warnings
