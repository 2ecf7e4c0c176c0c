"""Small-cell suppression of a breakdown's counts: which cells to hide.

Every count below k is hidden, and so is, in any row or column that would otherwise
hold exactly one hidden cell, its smallest visible one, so that nothing hidden can be
worked out by subtraction from what is published (README.md, "How responses are
counted").
"""

from __future__ import annotations

from collections.abc import Sequence

TOTAL_ROW = -1  # row index of the groups' totals (`reached`) in suppression


def suppress(
    values: Sequence[Sequence[int]], totals: Sequence[int], k: int
) -> set[tuple[int, int]]:
    """Cells (row, group) to hide; row TOTAL_ROW holds the group totals.

    Primary: every count below k. Complementary: the overall tally publishes each row's
    sum across groups, and a group's rows add up to its total, so a row or a column with
    exactly one hidden cell gives it away by subtraction; hide its smallest visible cell
    too, until no row or column has exactly one. (A breakdown with a single group cannot
    be protected this way: its cells equal the published overall counts.)
    """
    n_rows = len(values)
    n_groups = len(totals)

    def value(cell: tuple[int, int]) -> int:
        r, g = cell
        return totals[g] if r == TOTAL_ROW else values[r][g]

    every_row = [*range(n_rows), TOTAL_ROW]
    hidden = {(r, g) for r in every_row for g in range(n_groups) if value((r, g)) < k}
    lines = [[(r, g) for g in range(n_groups)] for r in every_row]
    lines += [[(r, g) for r in every_row] for g in range(n_groups)]
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(cell in hidden for cell in line) != 1:
                continue
            visible = [cell for cell in line if cell not in hidden]
            if visible:
                hidden.add(min(visible, key=value))
                changed = True
    return hidden
