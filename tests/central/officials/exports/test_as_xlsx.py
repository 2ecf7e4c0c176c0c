"""Tallies as XLSX (`civicline export`, SQLite and PostgreSQL): a sheet per breakdown."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

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
