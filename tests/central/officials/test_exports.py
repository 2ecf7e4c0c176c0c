"""`civicline export ...`: formats, shapes, the open-data zip, streaming."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from openpyxl import load_workbook
from sqlalchemy import Engine, event, inspect

from gateway.central.officials import exports
from gateway.central.officials.reports import Reports
from gateway.central.store.schema import final_states, participants
from gateway.central.store.tallies import ResponseRow
from gateway.cli import cli
from tests.central.officials.population import event as make_event
from tests.central.officials.population import generate, insert_events, publish, survey

CID = "survey-test"


def civicline(central_url: str, *args: str, k: int = 5) -> Result:
    return CliRunner().invoke(
        cli, list(args), env={"CENTRAL_DATABASE_URL": central_url, "SMALL_CELL_K": str(k)}
    )


@pytest.fixture
def rows(central_engine: Engine) -> list[dict[str, Any]]:
    consultation, definition = survey()
    publish(central_engine, definition, CID)
    generated = generate(consultation, 80, seed=7)
    generated.append(make_event(CID, "comment", "f" * 64, value='=HYPERLINK("http://x")'))
    insert_events(central_engine, generated)
    return generated


def test_tallies_csv_has_a_row_per_answer_and_the_total(central_url: str, rows: list) -> None:
    result = civicline(central_url, "export", "tallies", CID)
    assert result.exit_code == 0, result.output
    table = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(table[0]) == list(exports.TALLY_COLUMNS)
    priority = [r for r in table if r["question"] == "priority"]
    assert [r["row"] for r in priority] == ["option"] * 4 + [
        "unparsed",
        "skipped",
        "no_answer",
        "reached",
    ]
    assert [r["label"] for r in priority[:4]] == ["Water points", "Roads", "Clinics", "Schools"]
    reached = priority[-1]
    assert int(reached["total"]) == sum(int(r["total"]) for r in priority[:-1])
    assert all(int(r["total"]) == int(r["sms"]) + int(r["voice"]) for r in priority)


def test_tallies_by_breakdown_csv_marks_small_cells(central_url: str, rows: list) -> None:
    result = civicline(central_url, "export", "tallies", CID, "--by", "gender")
    assert result.exit_code == 0, result.output
    table = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(table[0]) == list(exports.BREAKDOWN_COLUMNS)
    assert {r["breakdown"] for r in table} == {"gender"}
    assert {r["group_label"] for r in table} == {"Woman", "Man", "Another gender", "Not stated"}
    small = [r for r in table if r["count"] == "<5"]
    assert small and all(r["percent"] == "" for r in small)


def test_unknown_breakdown_and_consultation_are_explained(central_url: str, rows: list) -> None:
    result = civicline(central_url, "export", "tallies", CID, "--by", "comment")
    assert result.exit_code == 2
    assert "choose one of age_band, gender, disability, region, channel" in result.output
    result = civicline(central_url, "export", "tallies", "nope")
    assert result.exit_code == 1
    assert "no published consultation 'nope' (published: survey-test)" in result.output


def test_no_central_store_is_explained(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    result = civicline(url, "export", "responses", CID)
    assert result.exit_code == 1
    assert "has no events table" in result.output


def test_a_store_from_before_final_states_is_upgraded_by_the_export(
    central_url: str, rows: list, central_engine: Engine
) -> None:
    """Its events, stored before the final states were kept, still count once each."""
    expected = civicline(central_url, "export", "tallies", CID, "--format", "json")
    assert expected.exit_code == 0, expected.output
    final_states.drop(central_engine)
    participants.drop(central_engine)
    result = civicline(central_url, "export", "tallies", CID, "--format", "json")
    assert result.exit_code == 0, result.output
    before, after = json.loads(expected.stdout), json.loads(result.stdout)
    assert before.pop("generated_at") and after.pop("generated_at")
    assert after == before
    assert inspect(central_engine).has_table("central_final_states")


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
    assert header == exports.TALLY_COLUMNS
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
    assert as_xlsx[0] == exports.RESPONSE_COLUMNS
    assert list(as_csv[0]) == list(exports.RESPONSE_COLUMNS)
    assert as_json["consultation"] == CID and as_json["version"] == 1
    for line, item, cells in zip(as_csv, as_json["responses"], as_xlsx[1:], strict=True):
        assert line["event_id"] == item["event_id"] == cells[0]
        assert line["counted"] == ("1" if item["counted"] else "0")
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


def test_open_data_zip_checks_out_with_sha256sum(
    central_url: str, rows: list, tmp_path: Path
) -> None:
    target = tmp_path / "open.zip"
    result = civicline(central_url, "export", "open-data", CID, "--output", str(target))
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(target) as zf:
        names = sorted(zf.namelist())
        zf.extractall(tmp_path / "unzipped")
    folder = tmp_path / "unzipped" / f"{CID}-open-data"
    assert names == sorted(
        f"{CID}-open-data/{n}"
        for n in [
            "README.md",
            "consultation.yaml",
            "responses.csv",
            "tallies.csv",
            "SHA256SUMS",
            "tallies-by-age_band.csv",
            "tallies-by-gender.csv",
            "tallies-by-disability.csv",
            "tallies-by-region.csv",
            "tallies-by-channel.csv",
            "tallies-by-priority.csv",
            "tallies-by-enough.csv",
            "tallies-by-satisfaction.csv",
        ]
    )
    sha256sum = shutil.which("sha256sum")
    assert sha256sum, "coreutils' sha256sum is needed to check the zip as its users will"
    check = subprocess.run(
        [sha256sum, "-c", "SHA256SUMS"], cwd=folder, capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count(": OK") == len(names) - 1

    (folder / "tallies.csv").write_text("tampered\n")
    tampered = subprocess.run(
        [sha256sum, "-c", "--quiet", "SHA256SUMS"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tampered.returncode == 1 and "tallies.csv: FAILED" in tampered.stdout

    published = (folder / "consultation.yaml").read_text()
    assert published == survey()[1]
    responses = list(csv.DictReader(io.StringIO((folder / "responses.csv").read_text())))
    assert len(responses) == len(rows)
    everything = "".join(p.read_text() for p in folder.iterdir())
    assert not any(r["pseudonym"] in everything for r in rows)  # re-keyed for open data
    comments = [r for r in responses if r["question"] == "comment" and r["status"] == "answered"]
    assert comments and {r["answer_text"] for r in comments} == {exports.WITHHELD}
    assert "below 5" in (folder / "README.md").read_text()
    # The tallies inside are those of the CLI.
    assert (folder / "tallies-by-gender.csv").read_text() == civicline(
        central_url, "export", "tallies", CID, "--by", "gender"
    ).stdout


def test_open_data_participant_ids_still_allow_a_recount(
    central_url: str, rows: list, tmp_path: Path
) -> None:
    target = tmp_path / "open.zip"
    civicline(central_url, "export", "open-data", CID, "--output", str(target))
    with zipfile.ZipFile(target) as zf:
        text = zf.read(f"{CID}-open-data/responses.csv").decode()
    responses = list(csv.DictReader(io.StringIO(text)))
    assert len({r["participant"] for r in responses}) == len({r["pseudonym"] for r in rows})


def test_output_file_appears_only_when_complete(
    central_url: str, rows: list, tmp_path: Path
) -> None:
    target = tmp_path / "out.csv"
    result = civicline(central_url, "export", "responses", CID, "-o", str(target))
    assert result.exit_code == 0
    assert f"wrote responses of {CID} to {target}" in result.stderr
    assert target.read_text().startswith("event_id,")
    assert not (tmp_path / "out.csv.part").exists()


def test_responses_stream_without_reading_everything_first(central_engine: Engine) -> None:
    consultation, definition = survey()
    publish(central_engine, definition, CID)
    published = Reports(central_engine, 5).consultation(CID)
    consumed = 0

    def many() -> Iterator[ResponseRow]:
        nonlocal consumed
        for n in range(100_000):
            consumed += 1
            yield ResponseRow(
                f"{n:036d}",
                "p" * 64,
                "priority",
                "answered",
                "water",
                "sms",
                "en",
                datetime(2026, 3, 1, tzinfo=UTC),
                None,
                "gw-1",
                True,
            )

    chunks = exports.responses_csv(published, many())
    first = next(chunks)
    assert len(first) >= exports.CHUNK_BYTES
    assert consumed < 2_000  # a chunk's worth, not 100,000 rows
    chunks.close()


def test_responses_are_read_in_batches_from_the_database(
    central_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    consultation, definition = survey()
    publish(central_engine, definition, CID)
    insert_events(central_engine, generate(consultation, 120, seed=3))
    monkeypatch.setattr("gateway.central.store.tallies.STREAM_BATCH", 50)
    seen: list[tuple[object, str]] = []

    def spy(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        seen.append((context.execution_options.get("yield_per"), type(cursor).__name__))

    event.listen(central_engine, "before_cursor_execute", spy)
    try:
        reports = Reports(central_engine, 5)
        stream = reports.responses(reports.consultation(CID))
        seen.clear()
        assert sum(1 for _ in stream) > 500
    finally:
        event.remove(central_engine, "before_cursor_execute", spy)
    batch, cursor = seen[-1]
    assert batch == 50
    if central_engine.dialect.name == "postgresql":
        assert cursor == "ServerCursor"  # a named cursor: rows stay on the server until read
