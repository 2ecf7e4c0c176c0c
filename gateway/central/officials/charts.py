"""Geometry of the dashboard's bar charts (inline SVG drawn by a template macro)."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.central.officials.tallies import QuestionTally, RowKind

WIDTH = 640
BAR_MAX = 420  # leaves room right of the longest bar for its figures
ROW_HEIGHT = 48
LABEL_Y = 16  # baseline of a row's label, from the row's top
BAR_Y = 24
BAR_HEIGHT = 18
PADDING = 8


@dataclass(frozen=True)
class Bar:
    label: str
    figures: str  # "123 (45.6%)"
    kind: str  # "answer" or "status": drawn in two colours, and labelled
    top: int
    width: float

    @property
    def label_y(self) -> int:
        return self.top + LABEL_Y

    @property
    def bar_y(self) -> int:
        return self.top + BAR_Y

    @property
    def figures_x(self) -> float:
        return self.width + 8

    @property
    def figures_y(self) -> int:
        return self.top + BAR_Y + BAR_HEIGHT - 4


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bar_height: int
    bars: tuple[Bar, ...]


def figures(count: int, percent: float | None) -> str:
    return f"{count:,}" if percent is None else f"{count:,} ({percent:.1f}%)"


def bar_chart(question: QuestionTally) -> Chart:
    """One bar per row, scaled to the largest, labelled above and with its figures."""
    largest = max((row.counts.total for row in question.rows), default=0)
    bars = []
    for i, row in enumerate(question.rows):
        width = BAR_MAX * row.counts.total / largest if largest else 0.0
        bars.append(
            Bar(
                label=row.label,
                figures=figures(row.counts.total, row.percent),
                kind="answer" if row.kind is RowKind.OPTION else "status",
                top=PADDING + i * ROW_HEIGHT,
                width=round(width, 1),
            )
        )
    height = PADDING * 2 + len(bars) * ROW_HEIGHT
    return Chart(WIDTH, height, BAR_HEIGHT, tuple(bars))
