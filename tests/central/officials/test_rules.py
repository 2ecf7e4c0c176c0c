"""The counting rules, one by one, on hand-made events (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from gateway.central.officials.reports import Reports
from gateway.central.officials.results import RowKind
from tests.central.officials.population import START, event, insert_events, publish, survey

CID = "survey-test"


@pytest.fixture
def reports(central_engine: Engine) -> Reports:
    _consultation, definition = survey()
    publish(central_engine, definition, CID)
    return Reports(central_engine, small_cell_k=5)


def tally_of(reports: Reports):  # type: ignore[no-untyped-def]
    return reports.tally(reports.consultation(CID))


def counts(reports: Reports, question: str) -> dict[str, tuple[int, int]]:
    """row id -> (sms, voice), rows with a count only."""
    q = tally_of(reports).question(question)
    return {r.id: (r.counts.sms, r.counts.voice) for r in q.rows if r.counts.total}


def test_the_latest_event_is_the_final_state_even_a_skip(
    reports: Reports, central_engine: Engine
) -> None:
    insert_events(
        central_engine,
        [
            event(CID, "age_band", "p1", value="18_34", at=START),
            event(CID, "age_band", "p1", status="skipped", at=START + timedelta(hours=1)),
            event(CID, "age_band", "p2", status="skipped", at=START),
            event(CID, "age_band", "p2", value="60_plus", at=START + timedelta(hours=1)),
            event(CID, "age_band", "p3", value="35_59", at=START + timedelta(hours=2)),
            event(CID, "age_band", "p3", status="unparsed", at=START + timedelta(hours=1)),
        ],
    )
    assert counts(reports, "age_band") == {"skipped": (1, 0), "60_plus": (1, 0), "35_59": (1, 0)}


def test_a_tie_in_time_goes_to_the_greater_event_id(
    reports: Reports, central_engine: Engine
) -> None:
    def uuid(n: int) -> str:
        return f"00000000-0000-4000-8000-{n:012x}"

    insert_events(
        central_engine,
        [
            event(CID, "priority", "p1", value="water", event_id=uuid(0x0F)),
            event(CID, "priority", "p1", value="roads", event_id=uuid(0xA0)),
            event(CID, "priority", "p1", value="clinics", event_id=uuid(0x09)),
        ],
    )
    assert counts(reports, "priority") == {"roads": (1, 0)}


def test_the_channel_is_that_of_the_counted_answer(
    reports: Reports, central_engine: Engine
) -> None:
    insert_events(
        central_engine,
        [
            event(CID, "priority", "p1", value="water", channel="sms", at=START),
            event(
                CID, "priority", "p1", value="water", channel="voice", at=START + timedelta(days=1)
            ),
            event(CID, "priority", "p2", value="roads", channel="voice", at=START),
            event(
                CID, "priority", "p2", value="roads", channel="sms", at=START + timedelta(days=1)
            ),
        ],
    )
    assert counts(reports, "priority") == {"water": (0, 1), "roads": (1, 0)}
    participation = tally_of(reports).participation
    assert (participation.participants_sms, participation.participants_voice) == (2, 2)
    assert participation.participants == 2


def test_rows_statuses_percentages_and_values_outside_the_definition(
    reports: Reports, central_engine: Engine
) -> None:
    insert_events(
        central_engine,
        [
            event(CID, "satisfaction", "p1", value="5"),
            event(CID, "satisfaction", "p2", value="5", channel="voice"),
            event(CID, "satisfaction", "p3", value="9"),  # not in 1..5: kept, never dropped
            event(CID, "satisfaction", "p4", status="unparsed"),
            event(CID, "satisfaction", "p5", status="no_answer", channel="voice"),
            event(CID, "comment", "p1", value="More taps"),
            event(
                CID, "comment", "p2", value="https://api.twilio.com/recordings/RE1", channel="voice"
            ),
            event(CID, "comment", "p3", status="skipped"),
        ],
    )
    tally = tally_of(reports)
    scale = tally.question("satisfaction")
    assert [r.id for r in scale.rows] == [
        "1",
        "2",
        "3",
        "4",
        "5",
        "9",
        "unparsed",
        "skipped",
        "no_answer",
    ]
    assert {r.id: r.percent for r in scale.rows} == {
        "1": 0.0,
        "2": 0.0,
        "3": 0.0,
        "4": 0.0,
        "5": 40.0,
        "9": 20.0,
        "unparsed": 20.0,
        "skipped": 0.0,
        "no_answer": 20.0,
    }
    assert (scale.reached.sms, scale.reached.voice) == (3, 2)
    comment = tally.question("comment")
    assert [(r.kind, r.id, r.counts.total) for r in comment.rows] == [
        (RowKind.OPTION, "answered", 2),
        (RowKind.UNPARSED, "unparsed", 0),
        (RowKind.SKIPPED, "skipped", 1),
        (RowKind.NO_ANSWER, "no_answer", 0),
    ]
    nobody = tally.question("enough")
    assert nobody.reached.total == 0 and all(r.percent is None for r in nobody.rows)


def test_rates_count_distinct_participants(reports: Reports, central_engine: Engine) -> None:
    insert_events(
        central_engine,
        [
            # p1 answered everything up to the last consultation question
            event(CID, "priority", "p1", value="water"),
            event(CID, "comment", "p1", status="skipped"),
            # p2 answered, then the answer became unreadable: still responded
            event(CID, "priority", "p2", value="water", at=START),
            event(CID, "priority", "p2", status="unparsed", at=START + timedelta(minutes=1)),
            # p3 only gave a profile answer: took part, but did not respond to a question
            event(CID, "age_band", "p3", value="18_34"),
            # p4 answered one question and stopped
            event(CID, "enough", "p4", value="yes", channel="voice"),
            # p5 never gave a readable answer
            event(CID, "priority", "p5", status="unparsed", channel="voice"),
            event(CID, "enough", "p5", status="no_answer", channel="voice"),
        ],
    )
    tally = tally_of(reports)
    p = tally.participation
    assert (p.participants, p.responded, p.completed) == (5, 3, 1)
    assert (tally.response_rate, tally.completion_rate) == (60.0, 20.0)


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
    assert [g.id for g in breakdown.groups] == ["under_18", "18_34", "35_59", "60_plus", None]
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
    assert [g.id for g in breakdown.question("priority").groups] == ["yes", "no", None]


def test_a_consultation_without_free_text(central_engine: Engine) -> None:
    _c, definition = survey()
    start = definition.index("  - id: comment")
    definition = definition[:start] + definition[definition.index("profile:") :]
    definition = definition.replace("id: survey-test", "id: no-text")
    publish(central_engine, definition, "no-text")
    reports = Reports(central_engine, small_cell_k=0)
    insert_events(
        central_engine,
        [
            event("no-text", "priority", "p1", value="water", at=START),
            event("no-text", "priority", "p1", value="roads", at=START + timedelta(hours=1)),
            event("no-text", "satisfaction", "p1", value="4"),
            event("no-text", "gender", "p1", value="woman"),
        ],
    )
    tally = reports.tally(reports.consultation("no-text"))
    assert {r.id: r.counts.total for r in tally.question("priority").rows if r.counts.total} == {
        "roads": 1
    }
    assert tally.participation.completed == 1  # satisfaction is now the last question
    breakdown = reports.breakdown(tally, "gender").question("priority")
    assert breakdown.groups[0].id == "woman" and breakdown.groups[0].reached.count == 1
