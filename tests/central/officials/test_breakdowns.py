"""The rules of breakdowns, one by one, on hand-made events (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from gateway.central.officials.reports import Reports
from tests.central.officials.population import START, event, insert_events, publish, survey

CID = "survey-test"


def tally_of(reports: Reports):  # type: ignore[no-untyped-def]
    return reports.tally(reports.consultation(CID))


def test_breakdown_groups_by_the_final_profile_answer_else_not_stated(
    reports: Reports, central_engine: Engine
) -> None:
    insert_events(
        central_engine,
        [
            event(CID, "priority", "p1", value="water"),
            event(CID, "age_band", "p1", value="18_34"),
            event(CID, "priority", "p2", value="water"),
            event(CID, "age_band", "p2", value="18_34", at=START),
            event(CID, "age_band", "p2", status="skipped", at=START + timedelta(hours=1)),
            event(CID, "priority", "p3", value="roads"),  # never reached the profile
            event(CID, "priority", "p4", value="roads"),
            event(CID, "age_band", "p4", status="unparsed"),
        ],
    )
    tally = tally_of(reports)
    breakdown = reports.breakdown(tally, "age_band", k=0).question("priority")
    cells = {
        (g.id, spec.id): cell.count
        for g in breakdown.groups
        for spec, cell in zip(breakdown.rows, g.cells, strict=True)
        if cell.count
    }
    assert cells == {("18_34", "water"): 1, (None, "water"): 1, (None, "roads"): 2}
    # Groups nobody is in are left out.
    assert [g.id for g in breakdown.groups] == ["18_34", None]
    assert breakdown.groups[-1].label == "Not stated"


def test_region_breakdown_uses_the_counted_event_and_empty_is_not_stated(
    reports: Reports, central_engine: Engine
) -> None:
    insert_events(
        central_engine,
        [
            event(CID, "priority", "p1", value="water", region="Garissa"),
            event(CID, "priority", "p2", value="water", region=None),
            event(CID, "priority", "p3", value="water", region=""),
            event(CID, "priority", "p4", value="roads", region="KE Nairobi", at=START),
            event(
                CID,
                "priority",
                "p4",
                value="roads",
                region="Garissa",
                at=START + timedelta(hours=1),
            ),
        ],
    )
    breakdown = reports.breakdown(tally_of(reports), "region", k=0).question("priority")
    assert [(g.id, g.reached.count) for g in breakdown.groups] == [("Garissa", 2), (None, 2)]


def test_unknown_breakdown_is_refused(reports: Reports) -> None:
    with pytest.raises(ValueError, match="comment"):
        reports.breakdown(tally_of(reports), "comment")  # free text cannot group anyone
    with pytest.raises(ValueError, match="nonsense"):
        reports.breakdown(tally_of(reports), "nonsense")


def test_a_question_named_region_shadows_the_gateway_region(central_engine: Engine) -> None:
    _c, definition = survey()
    definition = definition.replace("id: disability", "id: region").replace(
        "id: survey-test", "id: shadow"
    )
    publish(central_engine, definition, "shadow")
    reports = Reports(central_engine, small_cell_k=5)
    insert_events(
        central_engine,
        [
            event("shadow", "priority", "p1", value="water", region="Garissa"),
            event("shadow", "region", "p1", value="yes"),
        ],
    )
    breakdown = reports.breakdown(reports.tally(reports.consultation("shadow")), "region", k=0)
    assert [g.id for g in breakdown.question("priority").groups] == ["yes"]


def test_an_empty_not_stated_group_hides_nobody(reports: Reports, central_engine: Engine) -> None:
    """Thirteen people of one region: nothing to hide, and no empty group beside them."""
    insert_events(
        central_engine,
        [event(CID, "priority", f"p{n}", value="water", region="Garissa") for n in range(13)],
    )
    breakdown = reports.breakdown(tally_of(reports), "region").question("priority")
    assert [(g.id, g.reached.shown(5)) for g in breakdown.groups] == [("Garissa", "13")]
    assert [cell.shown(5) for cell in breakdown.groups[0].cells][0] == "13"


def test_the_channel_breakdown_shows_what_the_tallies_show(
    reports: Reports, central_engine: Engine
) -> None:
    """The overall tally publishes every row by channel: hiding its cells protects nobody."""
    insert_events(
        central_engine,
        [event(CID, "priority", f"s{n}", value="water") for n in range(7)]
        + [event(CID, "priority", f"v{n}", value="roads", channel="voice") for n in range(2)],
    )
    tally = tally_of(reports)
    breakdown = reports.breakdown(tally, "channel").question("priority")
    assert not any(cell.suppressed for g in breakdown.groups for cell in (g.reached, *g.cells))
    rows = tally.question("priority").rows
    for g in breakdown.groups:
        assert [cell.count for cell in g.cells] == [getattr(r.counts, g.id) for r in rows]


def test_small_groups_are_still_protected(reports: Reports, central_engine: Engine) -> None:
    insert_events(
        central_engine,
        [event(CID, "priority", f"p{n}", value="water", region="Garissa") for n in range(13)]
        + [event(CID, "priority", "q1", value="water", region=None)],
    )
    breakdown = reports.breakdown(tally_of(reports), "region").question("priority")
    # One person of no stated region would be 14 - 13 away: both totals are hidden.
    assert [(g.id, g.reached.shown(5)) for g in breakdown.groups] == [
        ("Garissa", "<5"), (None, "<5"),
    ]  # fmt: skip
