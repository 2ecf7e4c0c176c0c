"""The strict checks of a gateway's outreach progress report."""

from __future__ import annotations

import copy

import pytest

from gateway.central.outreach_validation import ProgressInvalid, parse_progress, phone_like
from tests.central.outreach_reports import progress_report

REPORT = progress_report()


def problems(payload: object) -> list[str]:
    with pytest.raises(ProgressInvalid) as caught:
        parse_progress(payload)
    return caught.value.problems


def test_the_documented_report_is_read() -> None:
    [report] = parse_progress({"outreach": [REPORT]})
    assert (report.id, report.version, report.answered) == ("o-3f9a1c2b7d4e", 4, 7)
    assert report.counts["pending"] == 700 and report.preview == REPORT["preview"]
    bare = {"id": "o-3f9a1c2b7d4e", "version": 1, "counts": {}}
    assert parse_progress({"outreach": [bare]})[0].preview is None
    assert parse_progress({"outreach": []}) == []


def test_an_outreach_id_with_a_run_of_digits_is_not_a_phone_number() -> None:
    assert phone_like({"outreach": [{"id": "o-1234567890ab"}]}) == []
    assert phone_like({"note": "call +254 700 000 001"}) == [
        "note: looks like a phone number; the centre never takes one"
    ]
    assert phone_like({"x": ["(0712) 345-678"]}) == [
        "x[0]: looks like a phone number; the centre never takes one"
    ]
    assert phone_like({"x": {"0712345678": 1}}) == [
        "x (a key): looks like a phone number; the centre never takes one"
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda r: r.update(id="o-XYZ"), "outreach[0].id: expected an outreach id such as "
                                         "o-3f9a1c2b7d4e"),
        (lambda r: r.update(version=0), "outreach[0].version: expected a whole number from 1"),
        (lambda r: r.update(version=True), "outreach[0].version: expected a whole number from 1"),
        (lambda r: r.update(answered="7"), "outreach[0].answered: expected a whole number "
                                           "from 0 to 1000000000"),
        (lambda r: r.pop("counts"), "outreach[0]: missing counts"),
        (lambda r: r.update(phone="x"), "outreach[0]: unknown keys phone"),
        (lambda r: r["preview"]["recipients"][0].update(channel="fax"),
         "outreach[0].preview.recipients[0].channel: expected one of sms, voice"),
        (lambda r: r["preview"]["recipients"][0].update(language="Swahili"),
         "outreach[0].preview.recipients[0].language: expected a language code such as sw"),
        (lambda r: r["preview"]["segments"].update(encoding="UTF-8"),
         "outreach[0].preview.segments.encoding: expected one of GSM-7, UCS-2"),
        (lambda r: r["preview"]["excluded"].update(bounced=1),
         "outreach[0].preview.excluded: unknown keys bounced"),
        (lambda r: r["counts"].update(sent=10**10),
         "outreach[0].counts.sent: expected a whole number from 0 to 1000000000"),
    ],
)  # fmt: skip
def test_each_wrong_field_is_named(change, expected: str) -> None:  # type: ignore[no-untyped-def]
    report = copy.deepcopy(REPORT)
    change(report)
    assert problems({"outreach": [report]}) == [expected]


def test_the_body_and_duplicates() -> None:
    assert problems([REPORT]) == ["body: expected an object"]
    assert problems({"outreach": {}}) == ["outreach: expected a list of at most 1000 reports"]
    assert problems({"outreach": [REPORT, REPORT]}) == [
        "outreach[1].id: o-3f9a1c2b7d4e is reported twice"
    ]
