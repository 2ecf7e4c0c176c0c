"""What every export format shares (`civicline export`, SQLite and PostgreSQL): the same
responses in CSV, JSON and XLSX, and participants' text that never becomes a formula."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

from openpyxl import load_workbook

from gateway.central.officials.exports.rows import RESPONSE_COLUMNS
from tests.central.officials.command_line import civicline

CID = "survey-test"


def test_responses_in_every_format_agree(central_url: str, rows: list, tmp_path: Path) -> None:
    as_csv = list(
        csv.DictReader(io.StringIO(civicline(central_url, "export", "responses", CID).stdout))
    )
    as_json = json.loads(
        civicline(central_url, "export", "responses", CID, "--format", "json").stdout
    )
    target = tmp_path / "responses.xlsx"
    civicline(central_url, "export", "responses", CID, "--format", "xlsx", "-o", str(target))
    book = load_workbook(target, read_only=True)
    as_xlsx = list(book["Responses"].iter_rows(values_only=True))
    book.close()

    assert len(as_csv) == len(as_json["responses"]) == len(as_xlsx) - 1 == len(rows)
    assert as_xlsx[0] == RESPONSE_COLUMNS
    assert list(as_csv[0]) == list(RESPONSE_COLUMNS)
    assert as_json["consultation"] == CID and as_json["version"] == 1
    for line, item, cells in zip(as_csv, as_json["responses"], as_xlsx[1:], strict=True):
        assert line["event_id"] == item["event_id"] == cells[0]
        # One meaning, spelt as JSON spells it: the CSV's text is the JSON's literal, and
        # XLSX has a boolean cell (TRUE/FALSE as a spreadsheet shows it).
        assert line["counted"] == json.dumps(item["counted"]) in {"true", "false"}
        assert cells[11] is item["counted"]
        assert (
            datetime.fromisoformat(line["answered_at"])
            == datetime.fromisoformat(item["answered_at"])
            == cells[8].replace(tzinfo=UTC)
        )
    water = next(r for r in as_csv if r["answer_id"] == "water")
    assert water["answer_text"] == "Water points"
    yes = next(r for r in as_csv if r["answer_id"] == "yes")
    assert yes["answer_text"] == "Yes"


def test_participants_text_cannot_become_a_formula(
    central_url: str, rows: list, tmp_path: Path
) -> None:
    as_csv = civicline(central_url, "export", "responses", CID).stdout
    assert "'=HYPERLINK" in as_csv and ",=HYPERLINK" not in as_csv
    target = tmp_path / "responses.xlsx"
    civicline(central_url, "export", "responses", CID, "--format", "xlsx", "-o", str(target))
    book = load_workbook(target)  # not read-only: cell types
    cells = [
        c
        for row in book["Responses"].iter_rows()
        for c in row
        if isinstance(c.value, str) and c.value.startswith("=HYPERLINK")
    ]
    assert cells and all(c.data_type == "s" for c in cells)
