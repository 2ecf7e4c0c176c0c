"""The outreach blocks of a consultation file: timezone, invitation, reminder, results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from gateway.consultation.catalogue import parse_consultation
from gateway.consultation.flows_check import check
from gateway.consultation.outreach_texts import (
    fill,
    keyword_for,
    results_question,
    says_stop,
    widest_results,
)
from tests.consultation.documents import document, dump, errors_of, only_error, write

INVITATION = {
    "en": "Water survey: text WATER to 40404. Reply STOP to stop.",
    "sw": "Utafiti wa maji: tuma MAJI kwa 40404. Jibu STOP kuacha.",
}
RESULTS = {
    "en": "{participants} took part. First: {top_option} ({top_percent}%).",
    "sw": "Watu {participants} walishiriki. Kwanza: {top_option} ({top_percent}%).",
}


def test_the_blocks_are_read_into_the_consultation() -> None:
    c = parse_consultation(
        dump(document(timezone="Africa/Nairobi", invitation=INVITATION, results=RESULTS)),
        "water.yaml",
    )
    assert c.timezone == ZoneInfo("Africa/Nairobi")
    assert c.invitation == INVITATION
    assert c.results == RESULTS
    assert datetime(2026, 12, 1, 5, tzinfo=UTC).astimezone(c.timezone).hour == 8


def test_without_the_blocks_the_zone_is_the_offset_of_opens_and_reminders_are_built_in() -> None:
    c = parse_consultation(dump(document()), "water.yaml")
    assert c.timezone == timezone(timedelta(hours=3))  # opens: ...+03:00
    assert c.invitation == {} and c.results == {}
    assert set(c.reminder) == {"en", "sw"}
    assert all(says_stop(text) for text in c.reminder.values())
    assert "{keyword}" in c.reminder["en"]


def test_a_written_reminder_replaces_the_built_in_one() -> None:
    reminder = {
        "en": "Finish the {title}: text {keyword}. Reply STOP to stop.",
        "sw": "Maliza {title}: tuma {keyword}. Jibu STOP kuacha.",
    }
    c = parse_consultation(dump(document(reminder=reminder)), "water.yaml")
    assert c.reminder == reminder
    assert fill(c, "reminder", "en", c.reminder["en"]) == (
        "Finish the Water survey: text WATER. Reply STOP to stop."
    )


def test_an_unknown_time_zone_is_named() -> None:
    assert only_error(document(timezone="Africa/Nairobbi")) == (
        "flows/water.yaml: timezone: 'Africa/Nairobbi' is not a known IANA time zone name "
        "(e.g. Africa/Nairobi, UTC)"
    )
    assert "got the number 3" in only_error(document(timezone=3))


def test_a_missing_language_is_an_error() -> None:
    assert only_error(document(invitation={"en": INVITATION["en"]})) == (
        "flows/water.yaml: invitation.sw: missing translation for language 'sw'"
    )


def test_an_invitation_or_reminder_without_stop_is_an_error() -> None:
    error = only_error(document(invitation={**INVITATION, "sw": "Tuma MAJI kwa 40404."}))
    assert error == (
        "flows/water.yaml: invitation.sw: an invitation must tell people how to "
        'stop: add "Reply STOP to stop."'
    )
    lower = {"en": "Text {keyword}. reply stop to stop.", "sw": "Tuma {keyword}. Jibu STOP."}
    assert only_error(document(reminder=lower)).startswith(
        "flows/water.yaml: reminder.en: a reminder must tell people how to stop"
    )


def test_results_need_no_stop_but_an_unknown_placeholder_is_an_error() -> None:
    results = {**RESULTS, "en": "{participants} took part; {winner} won."}
    assert only_error(document(results=results)) == (
        "flows/water.yaml: results.en: unknown placeholder {winner}; results texts may use "
        "{participants}, {title}, {top_option}, {top_percent}"
    )
    assert "placeholders must be named" in only_error(
        document(invitation={**INVITATION, "en": "Text {} now. Reply STOP to stop."})
    )
    assert "malformed braces" in only_error(
        document(invitation={**INVITATION, "en": "Text {keyword now. Reply STOP to stop."})
    )


def test_an_invitation_longer_than_one_segment_is_an_error() -> None:
    long = "Water survey: text WATER to 40404 or call us free of charge. " * 3 + "Reply STOP."
    error = only_error(document(invitation={**INVITATION, "en": long}))
    assert error.startswith("flows/water.yaml: invitation.en: needs 2 SMS segments (GSM-7, ")
    ucs2 = "Utafiti wa maji – tuma MAJI kwa 40404 au piga simu bure. Jibu STOP kuacha."
    error = only_error(document(invitation={**INVITATION, "sw": ucs2}))
    assert "(UCS-2, 74 of 70)" in error and "'–'" in error


def test_results_are_checked_filled_with_the_longest_label_and_6_digit_counts() -> None:
    text = (
        "Asante kwa kushiriki. Watu {participants} walishiriki katika utafiti wa maji. "
        "Kipaumbele cha kwanza: {top_option} ({top_percent}%)."
    )
    data = document(results={**RESULTS, "sw": text})
    label = "Barabara za vijijini zinazounganisha masoko na zahanati zote"
    data["questions"][0]["options"][1]["label"]["sw"] = label
    assert len(text) < 160 < len(text) + len(label)
    error = only_error(data)
    assert error.startswith("flows/water.yaml: results.sw: needs 2 SMS segments")
    assert "Watu 999999 walishiriki" in error and f"{label} (100%)" in error
    c = parse_consultation(dump(document(results=RESULTS)), "water.yaml")
    assert widest_results(c, "en", c.results["en"]) == (
        "999999 took part. First: Water points (100%)."
    )


def test_results_about_answers_need_a_question_with_answers() -> None:
    data = document(results=RESULTS, profile=[])
    data["questions"] = [q for q in data["questions"] if q["type"] == "text"]
    assert errors_of(dump(data)) == [
        "flows/water.yaml: results.en: {top_option} and {top_percent} need a question with "
        "answers to count (choice, yes_no or scale)",
        "flows/water.yaml: results.sw: {top_option} and {top_percent} need a question with "
        "answers to count (choice, yes_no or scale)",
    ]


def test_the_keyword_of_a_language_and_the_results_question() -> None:
    c = parse_consultation(dump(document(keywords={"en": ["WATER"], "sw": ["MAJI"]})), "w.yaml")
    assert keyword_for(c, "sw") == "MAJI" and keyword_for(c, "en") == "WATER"
    plain = parse_consultation(dump(document()), "w.yaml")
    assert keyword_for(plain, "sw") == "WATER"
    assert results_question(plain) is not None and results_question(plain).id == "priority"


def test_flows_check_warns_about_a_built_in_reminder_too_long_for_its_title(
    tmp_path: Path,
) -> None:
    title = (
        "County consultation on water, sanitation, drainage and the maintenance of "
        "public boreholes and kiosks"
    )
    write(tmp_path, "water.yaml", document(title={"en": title, "sw": "Maji"}))
    report = check([tmp_path])
    assert report.errors == []
    reminders = [w for w in report.warnings if "reminder" in w]
    assert len(reminders) == 1
    assert reminders[0].startswith(
        "water-2026 built-in reminder (en) needs 2 SMS segments (GSM-7, "
    )
    assert reminders[0].endswith("; write reminder.en")
