"""Small-cell suppression: nothing below k is shown, and nothing hidden can be worked out
by subtraction from what is shown (row sums are the published overall tallies, column
sums the groups' totals)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.central.officials.suppression import TOTAL_ROW, suppress

matrices = st.integers(1, 6).flatmap(
    lambda groups: st.lists(
        st.lists(st.integers(0, 40), min_size=groups, max_size=groups), min_size=1, max_size=8
    )
)


def lines(values: list[list[int]]) -> list[list[tuple[int, int]]]:
    n_groups = len(values[0])
    rows = [*range(len(values)), TOTAL_ROW]
    return [[(r, g) for g in range(n_groups)] for r in rows] + [
        [(r, g) for r in rows] for g in range(n_groups)
    ]


@settings(max_examples=300, deadline=None)
@given(values=matrices, k=st.integers(1, 10))
def test_no_line_gives_away_a_hidden_cell(values: list[list[int]], k: int) -> None:
    totals = [sum(column) for column in zip(*values, strict=True)]
    hidden = suppress(values, totals, k)
    for r, row in enumerate(values):
        for g, value in enumerate(row):
            if value < k:
                assert (r, g) in hidden
    for g, total in enumerate(totals):
        if total < k:
            assert (TOTAL_ROW, g) in hidden
    for line in lines(values):
        if len(line) > 1:  # a single-group breakdown equals the overall tally anyway
            assert sum(cell in hidden for cell in line) != 1, (line, hidden)


def test_a_lone_small_cell_takes_the_smallest_others_with_it() -> None:
    values = [[3, 10, 20], [12, 30, 40]]
    totals = [15, 40, 60]
    # 3 is small. Its row (published overall: 33) would give it away: 10 goes too; its
    # column (group total 15) would: 12 goes too; then column 1 holds one hidden cell
    # (10): 30 goes too. Every line now hides none or two, and 3 stays uncertain.
    assert suppress(values, totals, 5) == {(0, 0), (0, 1), (1, 0), (1, 1)}


def test_nothing_hidden_when_every_cell_is_large() -> None:
    assert suppress([[10, 12], [7, 9]], [17, 21], 5) == set()


def test_zero_counts_are_small_cells_too() -> None:
    hidden = suppress([[0, 10], [10, 10]], [10, 20], 5)
    assert (0, 0) in hidden
