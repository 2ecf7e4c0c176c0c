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
from openpyxl.utils import get_column_letter
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


# Spreadsheets keep no time zone: times are UTC, and every time cell says so.
UTC_TIME_FORMAT = 'yyyy-mm-dd hh:mm:ss "UTC"'
MAX_WIDTH = 60  # characters; longer text wraps to the next column's edge
# The responses sheet is streamed, so its widths come from what each column holds.
RESPONSE_WIDTHS = {
    "event_id": 38, "pseudonym": 66, "question": 18, "status": 12, "answer_id": 14,
    "answer_text": 30, "channel": 9, "language": 10, "answered_at": 25, "region": 16,
    "gateway": 16, "counted": 9,
}  # fmt: skip


def _xlsx_value(ws: WriteOnlyWorksheet, value: Any) -> Any:
    """A cell openpyxl will not read as a formula, without characters XML forbids."""
    if isinstance(value, datetime):
        cell = WriteOnlyCell(ws, value=value.astimezone(UTC).replace(tzinfo=None))
        cell.number_format = UTC_TIME_FORMAT
        return cell
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


def _shown_length(value: Any) -> int:
    if isinstance(value, datetime):
        return len("2026-01-01 00:00:00 UTC")
    if isinstance(value, float):
        return len(f"{value:.2f}")
    return len(str(value)) if value is not None else 0


def _fitted_widths(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[float]:
    """Each column as wide as its longest value (at most MAX_WIDTH), with a margin."""
    return [
        min(MAX_WIDTH, max([len(name), *(_shown_length(row[i]) for row in rows)]) + 2)
        for i, name in enumerate(columns)
    ]


def _sheet(
    wb: Workbook,
    title: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    taken: set[str],
    widths: Sequence[float] | None = None,
) -> None:
    """A sheet with a bold, frozen header; columns `widths` wide, or fitted to `rows`
    (then read whole: only for the small sheets of tallies)."""
    ws = wb.create_sheet(_sheet_title(title, taken))
    if widths is None:
        rows = list(rows)
        widths = _fitted_widths(columns, rows)
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
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
    widths = [RESPONSE_WIDTHS[name] for name in RESPONSE_COLUMNS]
    _sheet(wb, "Responses", RESPONSE_COLUMNS, map(formatter.values, rows), set(), widths)
    wb.save(out)


