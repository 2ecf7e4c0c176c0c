"""Tallies and responses as CSV, XLSX and JSON, and the open-data zip.

Tallies are small (aggregates) and are built whole. Responses can be millions of rows:
they are written row by row from the database cursor, as chunks a caller writes to a
file or streams over HTTP, and XLSX uses openpyxl's write-only mode.

The open-data zip is a release for anyone to read, so its responses carry nothing that
joins back to a person: participant ids keyed by a secret drawn for the release and
then dropped, no event ids, days instead of times, and rows in an order that follows
those ids rather than the pseudonyms (sorted in chunks spilled to temporary files).
"""

from __future__ import annotations

import csv
import hashlib
import heapq
import hmac
import io
import json
import re
import secrets
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from gateway.central.officials.breakdowns import Breakdown, Cell
from gateway.central.officials.reports import Published
from gateway.central.officials.tallies import (
    STATUS_ROWS,
    ConsultationTally,
    QuestionTally,
    RowKind,
    option_label,
)
from gateway.central.store.tallies import ResponseRow
from gateway.consultation.model import Consultation, QuestionType

FORMATS = ("csv", "xlsx", "json")
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "zip": "application/zip",
}
CHUNK_BYTES = 64 * 1024

TALLY_COLUMNS = (
    "consultation", "question", "question_type", "profile", "row", "option", "label",
    "sms", "voice", "total", "percent",
)  # fmt: skip
BREAKDOWN_COLUMNS = (
    "consultation", "question", "breakdown", "group", "group_label", "row", "option", "label",
    "count", "percent",
)  # fmt: skip
RESPONSE_COLUMNS = (
    "event_id", "pseudonym", "question", "status", "answer_id", "answer_text", "channel",
    "language", "answered_at", "region", "gateway", "counted",
)  # fmt: skip
# No event id and no time of day: either could join a row back to other records.
OPEN_RESPONSE_COLUMNS = (
    "participant", "question", "status", "answer_id", "answer_text", "channel", "language",
    "answered_on", "region", "gateway", "counted",
)  # fmt: skip
# Open-data rows sorted in memory at a time; beyond this they spill to temporary files.
OPEN_SORT_ROWS = 50_000

# A spreadsheet runs a cell starting with one of these as a formula: CSV injection.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
WITHHELD = "(withheld)"


def iso(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def inert(text: str) -> str:
    """Participant-written text, so that a spreadsheet shows it rather than runs it."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


# --- tallies as rows ----------------------------------------------------------------------


def tally_rows(tally: ConsultationTally) -> Iterator[tuple[Any, ...]]:
    cid = tally.consultation.id
    for q in tally.questions:
        head = (cid, q.question.id, q.question.type.value, int(q.question.profile))
        for row in q.rows:
            option = row.id if row.kind is RowKind.OPTION else ""
            yield (
                *head,
                row.kind.value,
                option,
                row.label,
                row.counts.sms,
                row.counts.voice,
                row.counts.total,
                row.percent,
            )
        yield (
            *head,
            "reached",
            "",
            "Reached the question",
            q.reached.sms,
            q.reached.voice,
            q.reached.total,
            100.0 if q.reached.total else None,
        )


def breakdown_rows(tally: ConsultationTally, breakdown: Breakdown) -> Iterator[tuple[Any, ...]]:
    """Long format: one row per question, group and answer row; counts below k as "<k"."""
    k = breakdown.k
    cid = tally.consultation.id
    for q in breakdown.questions:
        for group in q.groups:
            head = (cid, q.question_id, breakdown.by, group.id or "", group.label)
            for spec, cell in zip(q.rows, group.cells, strict=True):
                option = spec.id if spec.kind is RowKind.OPTION else ""
                yield (*head, spec.kind.value, option, spec.label, cell.shown(k), cell.percent)
            yield (
                *head,
                "reached",
                "",
                "Reached the question",
                group.reached.shown(k),
                None if group.reached.suppressed or not group.reached.count else 100.0,
            )


def summary_rows(tally: ConsultationTally, published: Published, now: datetime) -> list[tuple]:
    c = tally.consultation
    p = tally.participation
    return [
        ("consultation", c.id),
        ("title", c.title[c.default_language]),
        ("version", published.version),
        ("status", c.status(now).value),
        ("opens", iso(c.opens)),
        ("closes", iso(c.closes)),
        ("generated_at", iso(now)),
        ("participants", p.participants),
        ("participants_sms", p.participants_sms),
        ("participants_voice", p.participants_voice),
        ("responded", p.responded),
        ("completed", p.completed),
        ("response_rate", tally.response_rate),
        ("completion_rate", tally.completion_rate),
    ]


def _csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else _csv_value(v) for v in row])
    return out.getvalue()


def _csv_value(value: Any) -> Any:
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, str):
        return inert(value)  # labels and region names are not participants' text, but
    return value  # a gateway's region name need not be trusted to be inert either


def tallies_csv(tally: ConsultationTally, breakdown: Breakdown | None = None) -> str:
    if breakdown is None:
        return _csv_text(TALLY_COLUMNS, tally_rows(tally))
    return _csv_text(BREAKDOWN_COLUMNS, breakdown_rows(tally, breakdown))


# --- tallies as JSON ----------------------------------------------------------------------


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


# --- tallies as XLSX ----------------------------------------------------------------------

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


# --- responses ----------------------------------------------------------------------------


class ResponseFormatter:
    """A response row's export values; labels are looked up once per distinct answer."""

    def __init__(self, consultation: Consultation) -> None:
        self.consultation = consultation
        self.questions = {q.id: q for q in consultation.steps}
        self._answers: dict[tuple[str, str], tuple[str, str]] = {}

    def is_text(self, question_id: str) -> bool:
        question = self.questions.get(question_id)
        return question is not None and question.type is QuestionType.TEXT

    def answer(self, row: ResponseRow) -> tuple[str, str]:
        """(answer id, answer text): option id and its label in the default language for
        a choice; yes/no and its word; the scale value twice; for a text question no id
        and the text (or the recording URL). Empty for unparsed, skipped, no answer."""
        if row.status != "answered" or row.value is None:
            return "", ""
        key = (row.question_id, row.value)
        known = self._answers.get(key)
        if known is not None:
            return known
        question = self.questions.get(row.question_id)
        if question is None:  # a question since removed: keep what was stored
            return row.value, row.value
        if question.type is QuestionType.TEXT:
            return "", row.value  # free text: not cached, nearly every one differs
        known = (row.value, option_label(self.consultation, question, row.value))
        self._answers[key] = known
        return known

    def values(self, row: ResponseRow) -> tuple[Any, ...]:
        answer_id, answer_text = self.answer(row)
        return (
            row.event_id,
            row.pseudonym,
            row.question_id,
            row.status,
            answer_id,
            answer_text,
            row.channel,
            row.language,
            row.answered_at,
            row.region or "",
            row.gateway,
            row.counted,
        )

    def csv_fields(self, row: ResponseRow) -> list[str]:
        """values() as CSV text, participants' text made inert; the hot path of big
        exports, so without the generic conversions of csv_chunks."""
        answer_id, answer_text = self.answer(row)
        return [
            row.event_id,
            row.pseudonym,
            row.question_id,
            row.status,
            inert(answer_id),
            inert(answer_text),
            row.channel,
            row.language,
            row.answered_at.isoformat().replace("+00:00", "Z"),
            inert(row.region or ""),
            row.gateway,
            "1" if row.counted else "0",
        ]

    def open_csv_fields(self, row: ResponseRow, participant: str) -> list[str]:
        """OPEN_RESPONSE_COLUMNS: `participant` for the pseudonym, no event id, the UTC
        day for the time, free text and recordings withheld."""
        answer_id, answer_text = self.answer(row)
        if answer_text and self.is_text(row.question_id):
            answer_text = WITHHELD  # free text and recordings can identify people
        return [
            participant,
            row.question_id,
            row.status,
            inert(answer_id),
            inert(answer_text),
            row.channel,
            row.language,
            row.answered_at.astimezone(UTC).date().isoformat(),
            inert(row.region or ""),
            row.gateway,
            "1" if row.counted else "0",
        ]


class ReleaseIds:
    """Participant ids for one open-data release.

    HMAC-SHA256 of the pseudonym under a key drawn at random when the release is made
    and never stored or shown: within the release one participant always has the same
    id, but no one (PSEUDONYM_KEY and a phone number in hand, or another release of the
    same data) can work out which id is whose. The key goes when this object does.
    """

    def __init__(self) -> None:
        self._mac = hmac.new(secrets.token_bytes(32), digestmod=hashlib.sha256)

    def __call__(self, pseudonym: str) -> str:
        mac = self._mac.copy()
        mac.update(pseudonym.encode())
        return mac.hexdigest()[:20]


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


def open_responses_csv(
    published: Published, rows: Iterable[ResponseRow], *, sort_rows: int = OPEN_SORT_ROWS
) -> Iterator[str]:
    """responses.csv of an open-data release, with participant ids of its own.

    `rows` come ordered by question and pseudonym; published in that order, the ids'
    order would give away the pseudonyms' (whoever holds PSEUDONYM_KEY and the phone
    numbers could sort them and match them up). So they are put in order of question
    and release id instead, each participant's events for a question oldest first.
    """
    formatter = ResponseFormatter(published.consultation)
    ids = ReleaseIds()

    def keyed() -> Iterator[list[str]]:
        for n, row in enumerate(rows):
            fields = formatter.open_csv_fields(row, ids(row.pseudonym))
            yield [row.question_id, fields[0], f"{n:015d}", *fields]

    ordered = (record[3:] for record in sorted_spilling(keyed(), sort_rows))
    return csv_chunks(OPEN_RESPONSE_COLUMNS, ordered)


def sorted_spilling(records: Iterable[list[str]], chunk_rows: int) -> Iterator[list[str]]:
    """`records` (lists of strings) in sorted order, with at most `chunk_rows` of them
    in memory: each full chunk is sorted and written to a temporary file, and the files
    are merged as they are read back."""
    with ExitStack() as files:
        runs: list[Iterator[list[str]]] = []
        chunk: list[list[str]] = []
        for record in records:
            chunk.append(record)
            if len(chunk) >= chunk_rows:
                chunk.sort()
                runs.append(_spill(files, chunk))
                chunk = []
        chunk.sort()
        if not runs:
            yield from chunk
            return
        runs.append(iter(chunk))
        yield from heapq.merge(*runs)


def _spill(files: ExitStack, chunk: list[list[str]]) -> Iterator[list[str]]:
    spool = files.enter_context(tempfile.TemporaryFile("w+", encoding="utf-8", newline=""))
    csv.writer(spool).writerows(chunk)
    spool.seek(0)
    return csv.reader(spool)


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


def write_responses_xlsx(out: IO[bytes], published: Published, rows: Iterable[ResponseRow]) -> None:
    formatter = ResponseFormatter(published.consultation)
    wb = Workbook(write_only=True)
    _sheet(wb, "Responses", RESPONSE_COLUMNS, map(formatter.values, rows), set())
    wb.save(out)


# --- open data ----------------------------------------------------------------------------

OPEN_DATA_README = """\
# Open data: {title}

Consultation `{cid}`, version {version}, exported {generated} (UTC). Made by CivicLine.

## Files

- `consultation.yaml`: the consultation as published (questions, options, languages).
- `responses.csv`: one row per response event. Recount any tally from it.
- `tallies.csv`: the overall tallies.
- `tallies-by-<breakdown>.csv`: the tallies broken down by a profile question, region,
  channel or another question, with small cells suppressed (see below).
- `SHA256SUMS`: the SHA-256 of every other file; check with `sha256sum -c SHA256SUMS`.

## How responses are counted

- A participant's final state for a question is their latest event for it, by the
  exact time it was given (ties broken by the event's unique id; neither is in this
  release, see below). Whatever its status, it replaces their earlier events (a later
  skip replaces an earlier answer). `counted` is 1 on that event and 0 on the events
  it replaced; tallies count `counted` rows only.
- Statuses: `answered`; `unparsed` (the reply could not be read after repeated tries);
  `skipped` (the participant said SKIP or pressed 0 on an optional or profile
  question); `no_answer` (reached the question, gave nothing: silence, an empty
  recording). Each is its own row in the tallies.
- `reached` is the number of participants with a final state for the question; the
  percentages of a question are of `reached` and add up to 100.
- Channel columns (`sms`, `voice`) follow the channel of the counted event.
- Participants: distinct participants with any event; `responded`: those who gave at
  least one answer to a consultation question (profile questions aside), even one they
  changed later; `completed`: those with a final state for the last consultation
  question (they reached it).

## Columns of responses.csv

One row per response event, grouped by question, then by `participant`; a
participant's events for a question are oldest first. The order says nothing else
about who answered or when.

- `participant`: a random id for one person who took part, the same on every row of
  this file, so that one person's answers can be followed across questions. It is made
  for this release only, with a secret drawn for it and then discarded: another release,
  even of the same data, gives the same person a different id, and the id cannot be
  linked to a phone number, to the pseudonyms CivicLine keeps, or to any other data.
  Phone numbers never leave the gateway.
- `question`: the question id (see consultation.yaml).
- `status`: answered, unparsed, skipped or no_answer.
- `answer_id`: the option id (choice), `yes`/`no`, or the number (scale); empty for a
  text question and when not answered.
- `answer_text`: the option's label in the consultation's first language, the yes/no
  word or the number. Free text and voice recordings are {withheld}: they can identify
  people.
- `channel`: sms or voice.
- `language`: the language the participant used.
- `answered_on`: the day the participant answered, `YYYY-MM-DD` in UTC. The time of
  day is left out, so that a row cannot be matched with call or message records.
- `region`: the region worked out on the gateway from the phone number's prefix;
  empty when unknown.
- `gateway`: the gateway that received the response.
- `counted`: 1 when this is the participant's final state for the question, else 0.

Event ids are omitted: every response event has a unique id in CivicLine, which
could link a row to other records, so this release leaves it out.

A text cell starting with `=`, `+`, `-` or `@` starts with an added `'` so that
spreadsheets do not run it as a formula.

## Columns of the tallies

`tallies.csv`: consultation, question, question_type, profile (1 for a profile
question), row (option, unparsed, skipped, no_answer, or reached: the total), option
(its id), label, sms, voice, total, percent.

`tallies-by-*.csv`: consultation, question, breakdown, group (empty: not stated),
group_label, row, option, label, count, percent. A group is the participant's final
answer to the breakdown question ("Not stated" when they gave none, skipped it or it
was not understood), the region or the channel of the counted event.

Small cells: in breakdowns every count below {k} (zero included) is shown as `<{k}`
with no percentage, and where a row or column would otherwise hold exactly one such
cell, another is hidden too, so that none can be worked out by subtraction from the
overall tallies. The overall tallies are not suppressed. Note that `responses.csv`
holds each response, so it does not protect small groups the way breakdowns do.
"""


class _HashingWriter:
    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.digest = hashlib.sha256()

    def write(self, data: bytes) -> None:
        self.digest.update(data)
        self.target.write(data)


def write_open_data(
    out: IO[bytes],
    published: Published,
    tally: ConsultationTally,
    breakdowns: Sequence[Breakdown],
    responses: Callable[[], Iterable[ResponseRow]],
    now: datetime,
    k: int,
) -> list[tuple[str, str]]:
    """The zip: README.md, consultation.yaml, responses.csv, tallies*.csv, SHA256SUMS,
    all in one folder. Returns (name, sha256) of the files SHA256SUMS lists."""
    c = published.consultation
    folder = f"{c.id}-open-data"
    sums: list[tuple[str, str]] = []

    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:

        def add(name: str, chunks: Iterable[str]) -> None:
            info = zipfile.ZipInfo(f"{folder}/{name}", date_time=now.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w", force_zip64=True) as entry:
                writer = _HashingWriter(entry)  # type: ignore[arg-type]
                for chunk in chunks:
                    writer.write(chunk.encode("utf-8"))
            sums.append((name, writer.digest.hexdigest()))

        readme = OPEN_DATA_README.format(
            title=c.title[c.default_language],
            cid=c.id,
            version=published.version,
            generated=iso(now),
            k=k,
            withheld=f"replaced by `{WITHHELD}`",
        )
        add("README.md", [readme])
        add("consultation.yaml", [published.definition])
        add("responses.csv", open_responses_csv(published, responses()))
        add("tallies.csv", [tallies_csv(tally)])
        for breakdown in breakdowns:
            add(f"tallies-by-{breakdown.by}.csv", [tallies_csv(tally, breakdown)])
        lines = "".join(f"{digest}  {name}\n" for name, digest in sums)
        info = zipfile.ZipInfo(f"{folder}/SHA256SUMS", date_time=now.timetuple()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, lines)
    return sums
