"""The open-data zip: a release for anyone to read.

Its responses carry nothing that joins back to a person: participant ids keyed by a
secret drawn for the release and then dropped, no event ids, days instead of times,
free text and recordings withheld, and rows in an order that follows those ids rather
than the pseudonyms (sorted by the database). With them: the tallies as CSV (breakdowns
with small cells suppressed), the consultation, a README explaining every column, and
SHA256SUMS.
"""

from __future__ import annotations

import hashlib
import secrets
import stat
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import IO

from gateway.central.officials.breakdowns import Breakdown
from gateway.central.officials.exports.as_csv import csv_chunks, tallies_csv
from gateway.central.officials.exports.rows import ResponseFormatter, boolean, inert, iso
from gateway.central.officials.reports import Published
from gateway.central.officials.tallies import ConsultationTally
from gateway.central.store.responses import ResponseRow, release_key

# No event id and no time of day: either could join a row back to other records.
OPEN_RESPONSE_COLUMNS = (
    "participant", "question", "status", "answer_id", "answer_text", "channel", "language",
    "answered_on", "region", "gateway", "counted",
)  # fmt: skip
ID_DIGITS = 20  # of a participant id
WITHHELD = "(withheld)"


def open_fields(formatter: ResponseFormatter, row: ResponseRow, participant: str) -> list[str]:
    """OPEN_RESPONSE_COLUMNS: `participant` for the pseudonym, no event id, the UTC
    day for the time, free text and recordings withheld."""
    answer_id, answer_text = formatter.answer(row)
    if answer_text and formatter.is_text(row.question_id):
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
        boolean(row.counted),
    ]


class ReleaseIds:
    """Participant ids for one open-data release.

    The first ID_DIGITS hex digits of release_key(salt, pseudonym), the SHA-256 of a salt
    drawn at random when the release is made (256 bits) followed by the pseudonym. The
    salt is never stored or shown: within the release one participant always has the
    same id, but no one (PSEUDONYM_KEY and a phone number in hand, or another release
    of the same data) can work out which id is whose. The database orders the release's
    rows by the same key (TallyStore.responses with `release_salt`), so rows come in the
    ids' order. The salt goes when this object does. (It reaches the database as a
    query parameter: a PostgreSQL that logs this statement with its parameters keeps it
    in that log, readable by those who can read the events themselves.)
    """

    def __init__(self) -> None:
        self.salt = secrets.token_hex(32)

    def __call__(self, pseudonym: str) -> str:
        return release_key(self.salt, pseudonym)[:ID_DIGITS]


def open_responses_csv(
    published: Published, rows: Iterable[ResponseRow], ids: ReleaseIds
) -> Iterator[str]:
    """responses.csv of an open-data release, with participant ids of its own.

    `rows` are reports.responses(published, release_salt=ids.salt): in order of
    question and release id, each participant's events for a question oldest first.
    In the officials' order (by pseudonym), the ids' order would give away the
    pseudonyms' (whoever holds PSEUDONYM_KEY and the phone numbers could sort them and
    match them up).
    """
    formatter = ResponseFormatter(published.consultation)
    fields = (open_fields(formatter, row, ids(row.pseudonym)) for row in rows)
    return csv_chunks(OPEN_RESPONSE_COLUMNS, fields)


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
  skip replaces an earlier answer). `counted` is `true` on that event and `false` on
  the events it replaced; tallies count `counted` rows only.
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
- `counted`: `true` when this is the participant's final state for the question, else
  `false`.

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


def _entry(name: str, now: datetime) -> zipfile.ZipInfo:
    """A compressed file, readable by everyone once unzipped (Python's default is 0600)."""
    info = zipfile.ZipInfo(name, date_time=now.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # Unix: unzip honours the mode below
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    return info


def write_open_data(
    out: IO[bytes],
    published: Published,
    tally: ConsultationTally,
    breakdowns: Sequence[Breakdown],
    responses: Callable[[str], Iterable[ResponseRow]],
    now: datetime,
    k: int,
) -> list[tuple[str, str]]:
    """The zip: README.md, consultation.yaml, responses.csv, tallies*.csv, SHA256SUMS,
    all in one folder. `responses(salt)` gives every response in the order of the
    release drawn with that salt (Reports.responses). Returns (name, sha256) of the
    files SHA256SUMS lists."""
    c = published.consultation
    ids = ReleaseIds()
    folder = f"{c.id}-open-data"
    sums: list[tuple[str, str]] = []

    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:

        def add(name: str, chunks: Iterable[str]) -> None:
            info = _entry(f"{folder}/{name}", now)
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
        add("responses.csv", open_responses_csv(published, responses(ids.salt), ids))
        add("tallies.csv", [tallies_csv(tally)])
        for breakdown in breakdowns:
            add(f"tallies-by-{breakdown.by}.csv", [tallies_csv(tally, breakdown)])
        lines = "".join(f"{digest}  {name}\n" for name, digest in sums)
        zf.writestr(_entry(f"{folder}/SHA256SUMS", now), lines)
    return sums
