"""Batch validation: the fast path accepts exactly what the detailed checker accepts."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.central.validation import _event, _valid_event, parse_batch
from tests.live import make_event

VALID = make_event(1)
FIELD_VALUES = {
    "event_id": [VALID["event_id"], VALID["event_id"].upper(), "not-a-uuid", "", 5, None,
                 "{" + VALID["event_id"] + "}", "x" * 46],
    "consultation_id": ["water-test", "Water", "", "a" * 64, "a" * 65, 3, None],
    "question_id": ["age_band", "age-band", "q" * 65, None, []],
    "pseudonym": [VALID["pseudonym"], VALID["pseudonym"].upper(), "ab", None],
    "channel": ["sms", "voice", "SMS", "fax", None, ["sms"]],
    "status": ["answered", "unparsed", "skipped", "no_answer", "done", None, {}],
    "value": ["water", None, "", "v" * 4096, "v" * 4097, 7],
    "raw": ["1", None, "r" * 4097, True],
    "language": ["en", "swa", "e", "EN", "english", None],
    "answered_at": ["2026-06-01T09:00:00+03:00", "2026-06-01T09:00:00Z",
                    "2026-06-01T09:00:00", "2026-06-01", "yesterday", "", None, 1700000000,
                    "2026-06-01T09:00:00.123456+05:30"],
    "region": ["KE-047", None, "r" * 64, "r" * 65, 1],
}


@st.composite
def events(draw: st.DrawFn) -> object:
    if draw(st.integers(0, 20)) == 0:
        return draw(st.sampled_from([None, "event", 3, ["a"]]))
    event = dict(VALID)
    for name, choices in FIELD_VALUES.items():
        choice = draw(st.integers(0, len(choices)))
        if choice == len(choices):
            event.pop(name)
        else:
            event[name] = choices[choice]
    if draw(st.booleans()):
        event["unknown"] = "ignored"
    return event


@settings(max_examples=400, deadline=None)
@given(events())
def test_fast_path_agrees_with_the_detailed_checker(event: object) -> None:
    problems: list = []
    detailed = _event(0, event, problems)
    fast = _valid_event(event)
    assert (detailed is not None) == (fast is not None), problems
    assert (detailed is None) == bool(problems)
    if fast is not None:
        assert fast == detailed


def test_optional_fields_may_be_absent() -> None:
    event = {k: v for k, v in VALID.items() if k not in ("value", "raw", "region")}
    batch, problems = parse_batch({"events": [event]})
    assert problems == []
    assert batch is not None
    assert batch.events[0]["value"] is None
