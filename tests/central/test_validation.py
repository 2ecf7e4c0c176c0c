"""Batch validation: the fast path accepts exactly what the detailed checker accepts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.central.validation import (
    CLOCK_SKEW,
    Refusal,
    _event,
    _valid_event,
    check_events,
    parse_batch,
)
from gateway.consultation.catalogue import parse_consultation
from tests.conftest import FIXTURE_FLOWS
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


# --- what the events mean: check_events -----------------------------------------------------

WATER = parse_consultation((FIXTURE_FLOWS / "water.yaml").read_text(), "water.yaml")
PUBLISHED = {"water-test": WATER}
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def rows(*events: dict) -> list[dict]:
    batch, problems = parse_batch({"events": list(events)})
    assert batch is not None, problems
    return batch.events


def refusals(*events: dict, published: Mapping = PUBLISHED) -> dict[int, str]:
    kept, refused = check_events(rows(*events), published, NOW)
    assert len(kept) + len(refused) == len(events)
    return {r.index: r.reason for r in refused}


def test_well_formed_events_for_published_questions_are_kept() -> None:
    events = [
        make_event(0),  # choice, option "water"
        make_event(1, question_id="enough", value="no"),
        make_event(2, question_id="satisfaction", value="5"),
        make_event(3, question_id="comment", value="anything at all, or a recording URL"),
        make_event(4, question_id="age_band", value="60_plus"),  # a profile question
        make_event(5, status="skipped", value=None),
        make_event(6, status="unparsed", value=None, raw="purple"),
        make_event(7, question_id="comment", value=None),  # text: any
        make_event(8, answered_at="2026-01-01T00:00:00+03:00"),  # the opening itself
        make_event(9, answered_at=(NOW + CLOCK_SKEW).isoformat()),  # a clock just ahead
    ]
    kept, refused = check_events(rows(*events), PUBLISHED, NOW)
    assert refused == []
    assert [e["event_id"] for e in kept] == [e["event_id"] for e in events]


def test_the_clock_skew_allowed_is_five_minutes() -> None:
    assert CLOCK_SKEW == timedelta(minutes=5)
    ahead = NOW + CLOCK_SKEW + timedelta(seconds=1)
    event = make_event(answered_at=ahead.isoformat())
    kept, refused = check_events(rows(event), PUBLISHED, NOW)
    assert kept == []
    assert refused == [Refusal(0, event["event_id"], refused[0].reason)]
    assert refused[0].reason == (
        f"answered_at {ahead.isoformat()} is 5 min 1 s ahead of the central store's clock "
        "(at most 5 min allowed): check the gateway's clock"
    )
    far = refusals(make_event(answered_at="2027-01-03T10:30:00+00:00"))
    assert "32 d 1 h 30 min ahead" in far[0]


def test_each_refusal_names_its_reason() -> None:
    reasons = refusals(
        make_event(0),
        make_event(1, answered_at="2025-12-31T20:59:59+00:00"),  # 23:59:59 in Nairobi
        make_event(2, consultation_id="health-2026"),
        make_event(3, question_id="favourite_colour"),
        make_event(4, value="bridges"),
        make_event(5, question_id="enough", value="maybe"),
        make_event(6, question_id="satisfaction", value="6"),
        make_event(7, question_id="age_band", value="water"),  # another question's option
        make_event(8, value=None),
    )
    assert reasons == {
        1: "answered_at 2025-12-31T20:59:59+00:00 is before consultation 'water-test' "
           "opened (2025-12-31T21:00:00+00:00)",
        2: "consultation 'health-2026' is not published at the central store",
        3: "consultation 'water-test' has no question 'favourite_colour'",
        4: "answer 'bridges' to question 'priority' of 'water-test': expected one of its "
           "options (water, roads, clinics, schools)",
        5: "answer 'maybe' to question 'enough' of 'water-test': expected yes or no",
        6: "answer '6' to question 'satisfaction' of 'water-test': expected a whole number "
           "from 1 to 5",
        7: "answer 'water' to question 'age_band' of 'water-test': expected one of its "
           "options (under_18, 18_34, 35_59, 60_plus)",
        8: "answer no value to question 'priority' of 'water-test': expected one of its "
           "options (water, roads, clinics, schools)",
    }


def test_a_scale_answer_is_the_whole_number_as_the_gateway_writes_it() -> None:
    spellings = ["1", "3", "5", "0", "6", "03", "3.0", " 3", "+3", "-1", "٣", "three", ""]
    reasons = refusals(*(make_event(n, question_id="satisfaction", value=value)
                         for n, value in enumerate(spellings)))
    accepted = [v for n, v in enumerate(spellings) if n not in reasons]
    assert accepted == ["1", "3", "5"]
    yes_no = ["yes", "no", "YES", "No", "y", "1", "ndiyo"]
    reasons = refusals(*(make_event(n, question_id="enough", value=value)
                         for n, value in enumerate(yes_no)))
    assert [v for n, v in enumerate(yes_no) if n not in reasons] == ["yes", "no"]


def test_a_future_date_is_named_before_anything_else() -> None:
    reasons = refusals(make_event(consultation_id="nowhere", answered_at="2030-01-01T00:00:00Z"))
    assert "ahead of the central store's clock" in reasons[0]


def test_a_published_definition_that_no_longer_validates_refuses_its_events() -> None:
    reasons = refusals(make_event(), published={"water-test": None})
    assert reasons == {0: "consultation 'water-test' is published at the central store but "
                          "its definition no longer validates there"}
