"""Tallies, breakdowns and responses as CSV (`civicline export`, SQLite and PostgreSQL):
columns, rows, small cells, streaming."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy import Engine

from gateway.central.officials.exports.as_csv import responses_csv
from gateway.central.officials.exports.rows import BREAKDOWN_COLUMNS, CHUNK_BYTES, TALLY_COLUMNS
from gateway.central.officials.reports import Reports
from gateway.central.store.responses import ResponseRow
from tests.central.officials.command_line import civicline
from tests.central.officials.population import publish, survey

CID = "survey-test"


def test_tallies_csv_has_a_row_per_answer_and_the_total(central_url: str, rows: list) -> None:
    result = civicline(central_url, "export", "tallies", CID)
    assert result.exit_code == 0, result.output
    table = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(table[0]) == list(TALLY_COLUMNS)
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
    assert list(table[0]) == list(BREAKDOWN_COLUMNS)
    assert {r["breakdown"] for r in table} == {"gender"}
    assert {r["group_label"] for r in table} == {"Woman", "Man", "Another gender", "Not stated"}
    small = [r for r in table if r["count"] == "<5"]
    assert small and all(r["percent"] == "" for r in small)


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

    chunks = responses_csv(published, many())
    first = next(chunks)
    assert len(first) >= CHUNK_BYTES
    assert consumed < 2_000  # a chunk's worth, not 100,000 rows
    chunks.close()
