"""Tallies (a sheet per breakdown) and responses as XLSX, in openpyxl's write-only mode.
Every text cell is a string cell: participants' text never becomes a formula."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from gateway.central.officials.breakdowns import Breakdown
from gateway.central.officials.exports.rows import (
    BREAKDOWN_COLUMNS,
    RESPONSE_COLUMNS,
    TALLY_COLUMNS,
    ResponseFormatter,
    breakdown_rows,
    summary_rows,
    tally_rows,
)
from gateway.central.officials.reports import Published
from gateway.central.officials.tallies import ConsultationTally
from gateway.central.store.responses import ResponseRow

_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


def _sheet_title(text: str, taken: set[str]) -> str:
    base = _SHEET_NAME_BAD.sub(" ", text).strip()[:31] or "Sheet"
    title, n = base, 2
    while title.lower() in taken:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(title.lower())
    return title


def _xlsx_value(ws: WriteOnlyWorksheet, value: Any) -> Any:
    """A cell openpyxl will not read as a formula, without characters XML forbids."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, str):
        cell = WriteOnlyCell(ws, value=ILLEGAL_CHARACTERS_RE.sub("", value))
        cell.data_type = "s"  # never "f": participants' text stays text
        return cell
    return value


def _header(ws: WriteOnlyWorksheet, columns: Sequence[str]) -> list[WriteOnlyCell]:
    bold = Font(bold=True)
    cells = []
    for name in columns:
        cell = WriteOnlyCell(ws, value=name)
        cell.font = bold
        cells.append(cell)
    return cells


def _sheet(
    wb: Workbook, title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], taken: set[str]
) -> None:
    ws = wb.create_sheet(_sheet_title(title, taken))
    ws.freeze_panes = "A2"
    ws.append(_header(ws, columns))
    for row in rows:
        ws.append([_xlsx_value(ws, v) for v in row])


def write_tallies_xlsx(
    out: IO[bytes],
    tally: ConsultationTally,
    published: Published,
    now: datetime,
    breakdowns: Sequence[Breakdown],
) -> None:
    """Summary, Tallies, then one sheet per breakdown."""
    wb = Workbook(write_only=True)
    taken: set[str] = set()
    _sheet(wb, "Summary", ("item", "value"), summary_rows(tally, published, now), taken)
    _sheet(wb, "Tallies", TALLY_COLUMNS, tally_rows(tally), taken)
    for breakdown in breakdowns:
        _sheet(wb, f"By {breakdown.by}", BREAKDOWN_COLUMNS, breakdown_rows(tally, breakdown), taken)
    wb.save(out)


def write_responses_xlsx(out: IO[bytes], published: Published, rows: Iterable[ResponseRow]) -> None:
    formatter = ResponseFormatter(published.consultation)
    wb = Workbook(write_only=True)
    _sheet(wb, "Responses", RESPONSE_COLUMNS, map(formatter.values, rows), set())
    wb.save(out)


