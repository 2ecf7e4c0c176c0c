"""The counting rules of the overall tallies, one by one, on hand-made events (SQLite and
PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from gateway.central.officials.reports import Reports
from gateway.central.officials.tallies import RowKind
from tests.central.officials.population import START, event, insert_events

CID = "survey-test"


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
