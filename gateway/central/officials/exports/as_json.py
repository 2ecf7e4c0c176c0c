"""Tallies (with a breakdown on request) and responses as JSON; responses streamed."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from gateway.central.officials.breakdowns import Breakdown, Cell
from gateway.central.officials.exports.rows import (
    CHUNK_BYTES,
    RESPONSE_COLUMNS,
    ResponseFormatter,
    iso,
)
from gateway.central.officials.reports import Published
from gateway.central.officials.tallies import STATUS_ROWS, ConsultationTally, QuestionTally, RowKind
from gateway.central.store.responses import ResponseRow


def _cell_json(cell: Cell, k: int) -> dict[str, Any]:
    return {"count": cell.shown(k) if cell.suppressed else cell.count, "percent": cell.percent}


def _question_json(q: QuestionTally, breakdown: Breakdown | None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": q.question.id,
        "type": q.question.type.value,
        "profile": q.question.profile,
        "prompt": q.prompt,
        "reached": {"sms": q.reached.sms, "voice": q.reached.voice, "total": q.reached.total},
        "options": [
            {
                "id": r.id,
                "label": r.label,
                "sms": r.counts.sms,
                "voice": r.counts.voice,
                "total": r.counts.total,
                "percent": r.percent,
            }
            for r in q.options
        ],
    }
    for kind in STATUS_ROWS:
        r = q.status_row(kind)
        item[kind.value] = {
            "sms": r.counts.sms,
            "voice": r.counts.voice,
            "total": r.counts.total,
            "percent": r.percent,
        }
    if breakdown is not None:
        k = breakdown.k
        qb = breakdown.question(q.question.id)
        groups = []
        for group in qb.groups:
            entry: dict[str, Any] = {
                "id": group.id,
                "label": group.label,
                "reached": group.reached.shown(k)
                if group.reached.suppressed
                else group.reached.count,
                "options": [],
            }
            for spec, cell in zip(qb.rows, group.cells, strict=True):
                if spec.kind is RowKind.OPTION:
                    entry["options"].append({"id": spec.id, **_cell_json(cell, k)})
                else:
                    entry[spec.kind.value] = _cell_json(cell, k)
            groups.append(entry)
        item["breakdown"] = {"by": breakdown.by, "label": breakdown.label, "groups": groups}
    return item


def tallies_document(
    tally: ConsultationTally,
    published: Published,
    now: datetime,
    k: int,
    breakdown: Breakdown | None = None,
) -> dict[str, Any]:
    c = tally.consultation
    p = tally.participation
    return {
        "consultation": c.id,
        "version": published.version,
        "title": c.title[c.default_language],
        "status": c.status(now).value,
        "generated_at": iso(now),
        "small_cell_k": k,
        "participants": {
            "sms": p.participants_sms,
            "voice": p.participants_voice,
            "total": p.participants,
        },
        "responded": p.responded,
        "completed": p.completed,
        "response_rate": tally.response_rate,
        "completion_rate": tally.completion_rate,
        "questions": [_question_json(q, breakdown) for q in tally.questions],
    }


def tallies_json(
    tally: ConsultationTally,
    published: Published,
    now: datetime,
    k: int,
    breakdown: Breakdown | None = None,
) -> str:
    document = tallies_document(tally, published, now, k, breakdown)
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"



def responses_json(published: Published, rows: Iterable[ResponseRow]) -> Iterator[str]:
    """`{"consultation": id, "version": n, "responses": [{column: value}, ...]}`, streamed."""
    formatter = ResponseFormatter(published.consultation)
    head = json.dumps({"consultation": published.id, "version": published.version})[:-1]
    yield head + ', "responses": [\n'
    buffer: list[str] = []
    size = 0
    first = True
    for row in rows:
        values = formatter.values(row)
        item = dict(zip(RESPONSE_COLUMNS, values, strict=True))
        item["answered_at"] = iso(row.answered_at)
        item["region"] = row.region
        line = ("" if first else ",\n") + json.dumps(item, ensure_ascii=False)
        first = False
        buffer.append(line)
        size += len(line)
        if size >= CHUNK_BYTES:
            yield "".join(buffer)
            buffer, size = [], 0
    buffer.append("\n]}\n")
    yield "".join(buffer)


