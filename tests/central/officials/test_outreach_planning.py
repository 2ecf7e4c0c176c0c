"""The rules of outreach: audience, channels, window, hours and texts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from gateway.central.officials.outreach_planning import (
    OutreachInvalid,
    OutreachRequest,
    Planner,
    top_answer,
    zone_name,
)
from gateway.central.officials.tallies import Participation, TallyCount, build_tally
from tests.central.officials.dashboard import CID
from tests.central.officials.outreach_survey import published

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
INVITE = OutreachRequest(
    consultation_id=CID, kind="invitation", starts_at="2026-06-02T08:00",
    ends_at="2026-06-09T20:00",
)  # fmt: skip


def problems(request: OutreachRequest, *, closed: bool = False, tally=None) -> list[str]:  # type: ignore[no-untyped-def]
    with pytest.raises(OutreachInvalid) as caught:
        Planner(published(closed=closed), NOW).plan(request, tally)
    return caught.value.problems


def tally_of(closed: bool, counts: dict[str, int], participants: int):  # type: ignore[no-untyped-def]
    consultation = published(closed=closed).consultation
    rows = [TallyCount("priority", "answered", value, "sms", n) for value, n in counts.items()]
    return build_tally(consultation, rows, Participation(participants, participants, 0, 0, 0))


def test_an_invitation_gets_the_consultations_texts_hours_and_zone() -> None:
    fields = Planner(published(), NOW).plan(INVITE, None)
    assert fields.kind == "invitation" and fields.channels == ("sms",)
    assert fields.audience == {"source": "participants", "participants": "all", "list": None,
                               "languages": None, "regions": None}  # fmt: skip
    assert (fields.hours_from, fields.hours_to, fields.timezone) == (
        "08:00", "20:00", "Africa/Nairobi",
    )  # fmt: skip
    assert fields.starts_at == datetime(2026, 6, 2, 5, 0, tzinfo=UTC)  # 08:00 in Nairobi
    assert fields.texts == {
        "en": "County services survey: text SURVEY to take part. Reply STOP to stop.",
        "sw": "Utafiti wa huduma: tuma SURVEY kushiriki. Jibu STOP kuacha.",
    }


def test_an_audience_in_one_language_gets_that_languages_text_only() -> None:
    request = replace(
        INVITE,
        languages=["sw"],
        source="contacts",
        contact_list="market-women",
        channels=["voice", "sms"],
        texts={"sw": "Tuma {keyword}. Jibu STOP."},
    )
    fields = Planner(published(), NOW).plan(request, None)
    assert fields.texts == {"sw": "Tuma SURVEY. Jibu STOP."}
    assert fields.audience["list"] == "market-women" and fields.audience["participants"] is None
    assert fields.channels == ("sms", "voice")


def test_a_reminder_goes_to_those_who_did_not_finish_only() -> None:
    fields = Planner(published(), NOW).plan(replace(INVITE, kind="reminder"), None)
    assert fields.audience["participants"] == "not_completed"
    assert fields.texts["en"] == (
        "You started the County services survey. Text SURVEY to continue. Reply STOP to stop."
    )
    for request in (
        replace(INVITE, kind="reminder", participants="all"),
        replace(INVITE, kind="reminder", source="contacts", contact_list="x"),
    ):
        assert problems(request) == [
            "audience: a reminder goes to the participants who started and did not finish "
            "(participants not_completed), nobody else"
        ]


def test_invitation_texts_must_say_stop_and_fit_one_segment() -> None:
    assert problems(replace(INVITE, texts={"en": "Text {keyword} now."})) == [
        'texts.en: an invitation must tell people how to stop: add "Reply STOP to stop."'
    ]
    long = "Text {keyword} to take part in the county survey on services. " * 3 + "Reply STOP."
    [problem] = problems(replace(INVITE, texts={"en": long}))
    assert problem.startswith("texts.en: needs 2 SMS segments (GSM-7, ")
    assert problems(replace(INVITE, texts={"fr": "Envoyez SURVEY. STOP."})) == [
        "texts.fr: not a language of survey-test"
    ]


def test_the_window_must_be_sane() -> None:
    assert problems(replace(INVITE, ends_at="2026-06-02T07:00")) == [
        "ends_at: 2026-06-02T07:00:00+03:00 must be after starts_at (2026-06-02T08:00:00+03:00)"
    ]
    assert problems(replace(INVITE, starts_at="2026-05-01", ends_at="2026-05-02")) == [
        "ends_at: 2026-05-02T00:00:00+03:00 is already past"
    ]
    assert problems(replace(INVITE, ends_at="2026-08-01T00:00")) == [
        "ends_at: a window lasts at most 31 days"
    ]
    assert problems(replace(INVITE, starts_at="", ends_at="next week")) == [
        "starts_at: missing (a date and time, e.g. 2026-12-03T08:00)",
        "ends_at: 'next week' is not a date and time such as 2026-12-03T08:00",
    ]
    late = replace(INVITE, starts_at="2030-12-30T08:00", ends_at="2031-01-02T08:00")
    assert problems(late) == [
        "ends_at: the consultation closes at 2030-12-31T23:59:59+03:00; an invitation must "
        "end by then"
    ]


def test_hours_default_to_8_to_20_and_must_be_a_day_span() -> None:
    fields = Planner(published(), NOW).plan(replace(INVITE, hours_from="09:30"), None)
    assert (fields.hours_from, fields.hours_to) == ("09:30", "20:00")
    assert problems(replace(INVITE, hours_from="21:00")) == [
        "hours_to: 20:00 must be after hours_from (21:00) on the same day"
    ]
    assert problems(replace(INVITE, hours_to="25:00")) == [
        "hours_to: '25:00' is not a time of day such as 08:00"
    ]


def test_bad_kind_channel_and_audience_are_named() -> None:
    assert problems(replace(INVITE, kind="survey")) == [
        "kind: 'survey' is not one of invitation, reminder, results"
    ]
    assert problems(replace(INVITE, channels=["fax"], source="everyone")) == [
        "audience: 'everyone' is not one of participants, contacts",
        "channels: 'fax' not sms or voice",
    ]
    assert problems(replace(INVITE, source="contacts")) == [
        "list: a contact audience needs the name of a contact list imported on the gateways "
        "(letters, digits, _ . -; at most 64)"
    ]
    assert problems(replace(INVITE, languages=["fr"]))[0] == (
        "languages: fr not among the consultation's (en, sw)"
    )


RESULTS = replace(INVITE, kind="results", starts_at="2026-06-02T08:00",
                  ends_at="2026-06-03T20:00")  # fmt: skip


def test_results_only_after_close_and_filled_from_the_tallies() -> None:
    assert problems(RESULTS) == [
        "starts_at: results are sent after the consultation closes (2030-12-31T23:59:59+03:00)",
        "kind: results can be defined once survey-test has closed (2030-12-31T23:59:59+03:00)",
    ]
    tally = tally_of(True, {"water": 2, "roads": 5, "clinics": 1}, participants=9)
    fields = Planner(published(closed=True), NOW).plan(RESULTS, tally)
    assert fields.texts == {
        "en": "9 people took part. First: Roads (62%).",  # 5 of the 8 who answered
        "sw": "Watu 9 walishiriki. Kwanza: Barabara (62%).",
    }
    assert problems(replace(RESULTS, channels=["sms", "voice"]), closed=True, tally=tally) == [
        "channels: results are sent by SMS only (a call opens the voice flow of a "
        "consultation that is closed)"
    ]


def test_results_with_nothing_counted_are_refused() -> None:
    empty = tally_of(True, {}, participants=0)
    assert problems(RESULTS, closed=True, tally=empty) == [
        "texts: no answers counted yet, so there are no results to send"
    ]
    assert top_answer(empty, "en") is None


def test_the_zone_as_gateways_read_it() -> None:
    assert zone_name(ZoneInfo("Africa/Nairobi")) == "Africa/Nairobi"
    assert zone_name(timezone(timedelta(hours=3))) == "Etc/GMT-3"
    assert zone_name(timezone(timedelta(hours=-5))) == "Etc/GMT+5"
    assert zone_name(timezone(timedelta(0))) == "UTC"
    assert zone_name(timezone(timedelta(hours=5, minutes=30))) == "+05:30"
    assert ZoneInfo("Etc/GMT-3").utcoffset(NOW) == timedelta(hours=3)
