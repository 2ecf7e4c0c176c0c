"""Tallies as XLSX (`civicline export`, SQLite and PostgreSQL): a sheet per breakdown."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from gateway.central.officials.exports.rows import TALLY_COLUMNS
from tests.central.officials.command_line import civicline

CID = "survey-test"


def test_tallies_xlsx_has_a_sheet_per_breakdown(
    central_url: str, rows: list, tmp_path: Path
) -> None:
    target = tmp_path / "tallies.xlsx"
    result = civicline(central_url, "export", "tallies", CID, "--format", "xlsx", "-o", str(target))
    assert result.exit_code == 0, result.output
    book = load_workbook(target, read_only=True)
    assert book.sheetnames == [
        "Summary",
        "Tallies",
        "By age_band",
        "By gender",
        "By disability",
        "By region",
        "By channel",
        "By priority",
        "By enough",
        "By satisfaction",
    ]
    header = next(book["Tallies"].iter_rows(values_only=True))
    assert header == TALLY_COLUMNS
    summary = dict(book["Summary"].iter_rows(min_row=2, values_only=True))
    assert summary["consultation"] == CID and summary["participants"] > 0
    book.close()

    only = tmp_path / "by-region.xlsx"
    civicline(
        central_url, "export", "tallies", CID, "--format", "xlsx", "--by", "region", "-o", str(only)
    )
    book = load_workbook(only, read_only=True)
    assert book.sheetnames == ["Summary", "Tallies", "By region"]
    book.close()


def widths(sheet: Worksheet) -> dict[str, float | None]:
    return {
        cell.column_letter: sheet.column_dimensions[cell.column_letter].width
        if cell.column_letter in sheet.column_dimensions
        else None
        for cell in sheet[1]
    }


def test_responses_xlsx_times_are_labelled_utc_and_columns_readable(
    central_url: str, rows: list, tmp_path: Path
) -> None:
    target = tmp_path / "responses.xlsx"
    result = civicline(
        central_url, "export", "responses", CID, "--format", "xlsx", "-o", str(target)
    )
    assert result.exit_code == 0, result.output
    book = load_workbook(target)
    sheet = book["Responses"]
    header = [cell.value for cell in sheet[1]]
    when = sheet.cell(row=2, column=header.index("answered_at") + 1)
    assert isinstance(when.value, datetime)
    assert '"UTC"' in when.number_format and "hh:mm:ss" in when.number_format
    shown = dict(zip(header, widths(sheet).values(), strict=True))
    assert all(width is not None and width >= len(name) + 2 for name, width in shown.items())
    assert shown["pseudonym"] >= 64 and shown["event_id"] >= 36  # whole, not cut off
    assert shown["answered_at"] >= len("2026-06-01 12:00:00 UTC")
    book.close()


def test_tallies_xlsx_columns_fit_what_they_hold(
    central_url: str, rows: list, tmp_path: Path
) -> None:
    target = tmp_path / "tallies.xlsx"
    civicline(central_url, "export", "tallies", CID, "--format", "xlsx", "-o", str(target))
    book = load_workbook(target)
    for sheet in book.worksheets:
        found = widths(sheet)
        for column in sheet.iter_cols():
            longest = max(len(str(cell.value)) for cell in column if cell.value is not None)
            width = found[column[0].column_letter]
            assert width is not None and width >= min(longest, 60), (sheet.title, column[0])
    book.close()
