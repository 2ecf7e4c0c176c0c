"""Defining, starting, pausing and cancelling outreach, and reading the gateways' reports,
on the centre's database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, update

from gateway.central.officials.outreach_desk import OutreachDesk, summed_preview
from gateway.central.officials.outreach_planning import OutreachInvalid, OutreachRequest
from gateway.central.officials.reports import Reports
from gateway.central.store.outreach import ProgressReport
from gateway.central.store.schema import consultations
from tests.central.officials.dashboard import CID, NOW
from tests.central.officials.outreach_survey import (
    CLOSED_CLOSES,
    OPEN_CLOSES,
    answer_priority,
    publish_outreach_survey,
)

INVITE = OutreachRequest(consultation_id=CID, kind="invitation",
                         starts_at="2026-06-02T08:00", ends_at="2026-06-05T20:00")  # fmt: skip
RESULTS = OutreachRequest(consultation_id=CID, kind="results",
                          starts_at="2026-06-02T08:00", ends_at="2026-06-05T20:00")  # fmt: skip


def desk(engine: Engine, closed: bool = False) -> OutreachDesk:
    publish_outreach_survey(engine, closed=closed)
    return OutreachDesk(engine, Reports(engine, small_cell_k=5))


def test_create_checks_against_the_published_consultation(central_engine: Engine) -> None:
    d = desk(central_engine)
    made = d.create(INVITE, "ada", NOW)
    assert made.status.value == "draft" and made.fields.timezone == "Africa/Nairobi"
    with pytest.raises(OutreachInvalid) as caught:
        d.create(OutreachRequest(consultation_id="nope", kind="invitation"), "ada", NOW)
    assert caught.value.problems == [
        "consultation: no published consultation 'nope' (published: survey-test)"
    ]


def test_a_window_that_ended_cannot_be_started(central_engine: Engine) -> None:
    d = desk(central_engine)
    made = d.create(INVITE, "ada", NOW)
    with pytest.raises(OutreachInvalid, match="its window ended at 2026-06-05T17:00:00"):
        d.start(made.id, NOW + timedelta(days=5))
    assert d.store.require(made.id).status.value == "draft"


def test_results_start_only_while_the_consultation_is_still_closed(
    central_engine: Engine,
) -> None:
    d = desk(central_engine, closed=True)
    answer_priority(central_engine, ["roads", "roads", "water"], language="sw")
    made = d.create(RESULTS, "ada", NOW)
    assert made.fields.texts["sw"] == "Watu 3 walishiriki. Kwanza: Barabara (67%)."
    with central_engine.begin() as conn:  # republished with a later close: open again
        definition = conn.execute(consultations.select()).first().definition
        conn.execute(update(consultations).values(
            definition=definition.replace(CLOSED_CLOSES, OPEN_CLOSES), version=2))  # fmt: skip
    with pytest.raises(OutreachInvalid, match="results can be defined once survey-test has "
                                              "closed"):  # fmt: skip
        d.start(made.id, NOW)
    assert d.store.require(made.id).status.value == "draft"


def report(gateway: str, preview: dict | None) -> ProgressReport:  # type: ignore[type-arg]
    return ProgressReport(outreach_id="o-000000000001", gateway=gateway, version=1,
                          counts={}, answered=0, received_at=NOW, preview=preview)  # fmt: skip


def test_the_preview_sums_the_gateways_that_reported_one() -> None:
    one = {"recipients": [{"language": "sw", "channel": "sms", "count": 5},
                          {"language": "sw", "channel": "voice", "count": 2}],
           "segments": {"encoding": "GSM-7", "per_message": 1, "total": 5},
           "excluded": {"opted_out": 1, "outside_hours": 3}}  # fmt: skip
    two = {"recipients": [{"language": "sw", "channel": "sms", "count": 4}],
           "segments": {"encoding": "UCS-2", "per_message": 2, "total": 8},
           "excluded": {"opted_out": 2, "no_consent_basis": 0}}  # fmt: skip
    summed = summed_preview([report("gw-1", one), report("gw-2", two), report("gw-3", None)])
    assert summed.gateways == 2 and summed.total == 11
    assert summed.recipients == {("sw", "sms"): 9, ("sw", "voice"): 2}
    assert (summed.encoding, summed.per_message, summed.segments) == ("UCS-2", 2, 13)
    assert summed.excluded == {"opted_out": 3, "outside_hours": 3}
    assert summed_preview([]).gateways == 0 and summed_preview([]).total == 0
