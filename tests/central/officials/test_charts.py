"""The bar charts' geometry: a bar per row, scaled to the largest, answers and status
rows told apart, every bar labelled with its figures."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from gateway.central.officials.charts import BAR_MAX, bar_chart, figures
from gateway.central.officials.reports import Reports
from tests.central.officials.population import START, event, insert_events

CID = "survey-test"


def test_bars_are_scaled_to_the_largest_row(reports: Reports, central_engine: Engine) -> None:
    insert_events(
        central_engine,
        [
            event(CID, "priority", "p1", value="water"),
            event(CID, "priority", "p2", value="water", channel="voice"),
            event(CID, "priority", "p3", value="roads"),
            event(CID, "priority", "p4", value="clinics", at=START),
            event(CID, "priority", "p4", status="skipped", at=START + timedelta(hours=1)),
        ],
    )
    question = reports.tally(reports.consultation(CID)).question("priority")
    chart = bar_chart(question)
    assert [b.label for b in chart.bars] == [r.label for r in question.rows]
    assert [b.width for b in chart.bars] == [
        BAR_MAX, BAR_MAX / 2, 0.0, 0.0, 0.0, BAR_MAX / 2, 0.0,
    ]  # fmt: skip
    assert [b.kind for b in chart.bars] == ["answer"] * 4 + ["status"] * 3
    assert chart.bars[0].figures == "2 (50.0%)" and chart.bars[-1].figures == "0 (0.0%)"


def test_a_question_nobody_reached(reports: Reports) -> None:
    chart = bar_chart(reports.tally(reports.consultation(CID)).question("enough"))
    assert {b.width for b in chart.bars} == {0.0}
    assert {b.figures for b in chart.bars} == {"0"}  # no percentage of nobody
    assert figures(1234, 12.345) == "1,234 (12.3%)"
