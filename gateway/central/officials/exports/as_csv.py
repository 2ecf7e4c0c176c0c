"""Tallies, breakdowns and responses as CSV. Text a spreadsheet would run as a formula
is made inert (rows.inert)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from gateway.central.officials.breakdowns import Breakdown
from gateway.central.officials.exports.rows import (
    BREAKDOWN_COLUMNS,
    CHUNK_BYTES,
    RESPONSE_COLUMNS,
    TALLY_COLUMNS,
    ResponseFormatter,
    boolean,
    breakdown_rows,
    inert,
    tally_rows,
)
from gateway.central.officials.reports import Published
from gateway.central.officials.tallies import ConsultationTally
from gateway.central.store.responses import ResponseRow


def _csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else _csv_value(v) for v in row])
    return out.getvalue()


def _csv_value(value: Any) -> Any:
    if isinstance(value, bool):
        return boolean(value)
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, str):
        return inert(value)  # labels and region names are not participants' text, but
    return value  # a gateway's region name need not be trusted to be inert either


def tallies_csv(tally: ConsultationTally, breakdown: Breakdown | None = None) -> str:
    if breakdown is None:
        return _csv_text(TALLY_COLUMNS, tally_rows(tally))
    return _csv_text(BREAKDOWN_COLUMNS, breakdown_rows(tally, breakdown))

def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[str]]) -> Iterator[str]:
    """CSV text of rows of strings, in chunks of about CHUNK_BYTES."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
        if out.tell() >= CHUNK_BYTES:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def responses_csv(published: Published, rows: Iterable[ResponseRow]) -> Iterator[str]:
    formatter = ResponseFormatter(published.consultation)
    return csv_chunks(RESPONSE_COLUMNS, map(formatter.csv_fields, rows))

