"""The dashboard's bar charts: a row per answer, its label and figures as text of the
page (so they wrap, zoom and stay the body's size on a phone), and its bar drawn to
scale by a template macro (an SVG rectangle as wide as the bar's share of the largest)."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.central.officials.tallies import QuestionTally, RowKind

BAR_MAX = 100.0  # the longest bar, in percent of the chart's width


@dataclass(frozen=True)
class Bar:
    label: str
    figures: str  # "123 (45.6%)"
    kind: str  # "answer" or "status": drawn in two colours, and labelled
    width: float  # percent of the chart's width


@dataclass(frozen=True)
class Chart:
    bars: tuple[Bar, ...]


def figures(count: int, percent: float | None) -> str:
    return f"{count:,}" if percent is None else f"{count:,} ({percent:.1f}%)"


def bar_chart(question: QuestionTally) -> Chart:
    """One bar per row, scaled to the largest, labelled above and with its figures."""
    largest = max((row.counts.total for row in question.rows), default=0)
    return Chart(
        tuple(
            Bar(
                label=row.label,
                figures=figures(row.counts.total, row.percent),
                kind="answer" if row.kind is RowKind.OPTION else "status",
                width=round(BAR_MAX * row.counts.total / largest, 1) if largest else 0.0,
            )
            for row in question.rows
        )
    )
