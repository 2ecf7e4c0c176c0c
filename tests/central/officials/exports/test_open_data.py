"""The open-data zip (`civicline export open-data`, SQLite and PostgreSQL): it checks out
with sha256sum, and cannot be joined back to people: participant ids of its own for each
release, no event ids, days instead of times, and a README that says so."""

from __future__ import annotations

import csv
import io
import re
import shutil
import stat
import subprocess
import zipfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from gateway.central.officials.exports.open_data import (
    OPEN_RESPONSE_COLUMNS,
    WITHHELD,
    ReleaseIds,
    open_responses_csv,
)
from gateway.central.officials.reports import Reports
from gateway.central.store.responses import release_key
from gateway.cli import cli
from tests.central.officials.command_line import civicline
from tests.central.officials.population import event as make_event
from tests.central.officials.population import generate, insert_events, publish, survey

CID = "survey-test"
FOLDER = f"{CID}-open-data"
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@pytest.fixture
def rows(central_engine: Engine) -> list[dict[str, Any]]:
    consultation, definition = survey()
    publish(central_engine, definition, CID)
    generated = generate(consultation, 80, seed=7)
    generated.append(make_event(CID, "comment", "f" * 64, value="call me on 0712 345678"))
    insert_events(central_engine, generated)
    return generated


def release(central_url: str, target: Path) -> dict[str, bytes]:
    """`civicline export open-data`: every file of the zip by name."""
    result = CliRunner().invoke(
        cli,
        ["export", "open-data", CID, "--output", str(target)],
        env={"CENTRAL_DATABASE_URL": central_url, "SMALL_CELL_K": "5"},
    )
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(target) as zf:
        return {name.removeprefix(f"{FOLDER}/"): zf.read(name) for name in zf.namelist()}


def table(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    found = list(reader)
    return list(reader.fieldnames or []), found


def full_export(central_url: str) -> list[dict[str, str]]:
    """The officials' own responses export, with pseudonyms, event ids and times."""
    result = CliRunner().invoke(
        cli, ["export", "responses", CID], env={"CENTRAL_DATABASE_URL": central_url}
    )
    assert result.exit_code == 0, result.output
    return table(result.stdout)[1]


def people(open_rows: list[dict[str, str]]) -> Counter[tuple[tuple[str, ...], ...]]:
    """Each participant as the sorted rows they have (participant id aside), counted:
    how the file groups rows into people, whatever the ids."""
    by_id: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for row in open_rows:
        by_id[row["participant"]].append(
            tuple(row[c] for c in OPEN_RESPONSE_COLUMNS if c != "participant")
        )
    return Counter(tuple(sorted(found)) for found in by_id.values())


def as_open(row: dict[str, str], text_questions: set[str]) -> tuple[str, ...]:
    """A row of the full export as the open data should show it."""
    answer_text = row["answer_text"]
    if row["question"] in text_questions and answer_text:
        answer_text = WITHHELD
    return (
        row["question"], row["status"], row["answer_id"], answer_text, row["channel"],
        row["language"], row["answered_at"][:10], row["region"], row["gateway"],
        row["counted"],
    )  # fmt: skip


def test_no_event_ids_and_only_days(central_url: str, rows: list, tmp_path: Path) -> None:
    files = release(central_url, tmp_path / "open.zip")
    header, open_rows = table(files["responses.csv"].decode())
    assert header == list(OPEN_RESPONSE_COLUMNS)
    assert "event_id" not in header and "answered_at" not in header
    assert len(open_rows) == len(rows)
    everything = b"".join(files.values())
    assert not [r["event_id"] for r in rows if r["event_id"].encode() in everything]
    assert not [r["pseudonym"] for r in rows if r["pseudonym"].encode() in everything]
    assert all(DAY.fullmatch(r["answered_on"]) for r in open_rows)
    # The population's times are in UTC.
    days = Counter(r["answered_at"].date().isoformat() for r in rows)
    assert Counter(r["answered_on"] for r in open_rows) == days
    assert b"0712 345678" not in everything  # free text is withheld


def test_participant_ids_are_new_for_every_release(
    central_url: str, rows: list, tmp_path: Path
) -> None:
    first = table(release(central_url, tmp_path / "first.zip")["responses.csv"].decode())[1]
    second = table(release(central_url, tmp_path / "second.zip")["responses.csv"].decode())[1]
    ids_first = {r["participant"] for r in first}
    ids_second = {r["participant"] for r in second}
    assert len(ids_first) == len(ids_second) == len({r["pseudonym"] for r in rows})
    assert not ids_first & ids_second  # nothing in common between two releases

    # Within a release one person keeps one id: the rows group into exactly the people
    # of the full export, whose pseudonyms the release does not hold.
    consultation = survey()[0]
    text_questions = {q.id for q in consultation.steps if q.type.value == "text"}
    truth: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for row in full_export(central_url):
        truth[row["pseudonym"]].append(as_open(row, text_questions))
    expected = Counter(tuple(sorted(found)) for found in truth.values())
    assert people(first) == people(second) == expected


def test_row_order_follows_the_release_ids_not_the_pseudonyms(
    central_url: str, rows: list, tmp_path: Path
) -> None:
    """Rows in pseudonym order would let whoever can compute pseudonyms match them to
    the ids by rank."""
    orders = []
    for name in ("first.zip", "second.zip"):
        open_rows = table(release(central_url, tmp_path / name)["responses.csv"].decode())[1]
        keys = [(r["question"], r["participant"]) for r in open_rows]
        assert keys == sorted(keys)
        # The people in the order they come, told apart by their rows, not their ids.
        person = _rows_by_participant(open_rows)
        orders.append([person[pid] for pid in dict.fromkeys(r["participant"] for r in open_rows)])
    assert sorted(orders[0]) == sorted(orders[1])
    assert orders[0] != orders[1]  # a new order with each release


def _rows_by_participant(open_rows: list[dict[str, str]]) -> dict[str, tuple]:
    found: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for row in open_rows:
        found[row["participant"]].append(tuple(v for k, v in row.items() if k != "participant"))
    return {pid: tuple(sorted(r)) for pid, r in found.items()}


def test_each_participants_events_stay_oldest_first(
    central_url: str, rows: list, tmp_path: Path
) -> None:
    open_rows = table(release(central_url, tmp_path / "open.zip")["responses.csv"].decode())[1]
    histories: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for row in open_rows:
        histories[(row["question"], row["participant"])].append(row)
    for history in histories.values():
        assert [r["counted"] for r in history] == ["false"] * (len(history) - 1) + ["true"]
        days = [r["answered_on"] for r in history]
        assert days == sorted(days)


def test_tallies_recount_from_the_release(central_url: str, rows: list, tmp_path: Path) -> None:
    files = release(central_url, tmp_path / "open.zip")
    open_rows = table(files["responses.csv"].decode())[1]
    tallies = table(files["tallies.csv"].decode())[1]
    consultation = survey()[0]
    text_questions = {q.id for q in consultation.steps if q.type.value == "text"}
    recounted: Counter[tuple[str, str, str]] = Counter()
    for row in open_rows:
        if row["counted"] == "true" and row["question"] not in text_questions:
            recounted[(row["question"], "reached", "")] += 1
            if row["status"] == "answered":
                recounted[(row["question"], "option", row["answer_id"])] += 1
            else:
                recounted[(row["question"], row["status"], "")] += 1
    expected = Counter(
        {
            (t["question"], t["row"], t["option"]): int(t["total"])
            for t in tallies
            if t["question"] not in text_questions and int(t["total"])
        }
    )
    assert recounted == expected


def test_the_readme_says_so(central_url: str, rows: list, tmp_path: Path) -> None:
    files = release(central_url, tmp_path / "open.zip")
    readme = files["README.md"].decode()
    section = readme.split("## Columns of responses.csv", 1)[1].split("\n## ", 1)[0]
    described = re.findall(r"^- `([a-z_]+)`:", section, flags=re.MULTILINE)
    assert described == table(files["responses.csv"].decode())[0]
    assert "`event_id`" not in readme and "`answered_at`" not in readme
    flat = " ".join(section.split())
    assert "Event ids are omitted" in flat
    assert "another release, even of the same data, gives the same person a different id" in flat
    assert "the id cannot be linked to a phone number" in flat
    assert "`YYYY-MM-DD` in UTC. The time of day is left out" in flat


def test_the_database_puts_the_release_in_order(central_engine: Engine, rows: list) -> None:
    """The database sorts a release's rows by its key (spilling to disk itself, however
    many) and they are written as they come: the officials' rows, counted alike, in the
    order of question and release id; two releases hold the same people."""
    reports = Reports(central_engine, 5)
    published = reports.consultation(CID)
    ids = ReleaseIds()
    ordered = list(reports.responses(published, release_salt=ids.salt))
    officials = list(reports.responses(published))
    assert ordered == sorted(
        officials,
        key=lambda r: (
            r.question_id, release_key(ids.salt, r.pseudonym), r.pseudonym, r.answered_at,
            r.event_id,
        ),
    )  # fmt: skip
    assert [r.pseudonym for r in ordered] != [r.pseudonym for r in officials]
    header, released = table("".join(open_responses_csv(published, iter(ordered), ids)))
    other = ReleaseIds()
    again = reports.responses(published, release_salt=other.salt)
    header_again, released_again = table("".join(open_responses_csv(published, again, other)))
    assert header == header_again == list(OPEN_RESPONSE_COLUMNS)
    keys = [(r["question"], r["participant"]) for r in released]
    assert keys == sorted(keys)
    assert people(released) == people(released_again)


def test_the_order_is_the_keys_whatever_the_text(central_engine: Engine) -> None:
    """The database's key is release_key, byte for byte, whatever the pseudonym holds."""
    _consultation, definition = survey()
    publish(central_engine, definition, CID)
    awkward = ["a,b", 'say "hi"', "two\nlines", "cr\rlf\r\n", "", "é", "=1+1", "z", "漢字 ß"]
    insert_events(
        central_engine,
        [make_event(CID, "priority", p, value="water") for p in awkward]
        + [make_event(CID, "enough", p, value="yes") for p in awkward],
    )
    reports = Reports(central_engine, 5)
    published = reports.consultation(CID)
    for _ in range(3):
        salt = ReleaseIds().salt
        ordered = list(reports.responses(published, release_salt=salt))
        keys = [(r.question_id, release_key(salt, r.pseudonym)) for r in ordered]
        assert keys == sorted(keys) and len(keys) == 2 * len(awkward)


def test_open_data_zip_checks_out_with_sha256sum(
    central_url: str, formula_rows: list, tmp_path: Path
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
    assert len(responses) == len(formula_rows)
    everything = "".join(p.read_text() for p in folder.iterdir())
    assert not any(r["pseudonym"] in everything for r in formula_rows)  # re-keyed for open data
    comments = [r for r in responses if r["question"] == "comment" and r["status"] == "answered"]
    assert comments and {r["answer_text"] for r in comments} == {WITHHELD}
    assert "below 5" in (folder / "README.md").read_text()
    # The tallies inside are those of the CLI.
    assert (folder / "tallies-by-gender.csv").read_text() == civicline(
        central_url, "export", "tallies", CID, "--by", "gender"
    ).stdout


def test_open_data_participant_ids_still_allow_a_recount(
    central_url: str, formula_rows: list, tmp_path: Path
) -> None:
    target = tmp_path / "open.zip"
    civicline(central_url, "export", "open-data", CID, "--output", str(target))
    with zipfile.ZipFile(target) as zf:
        text = zf.read(f"{CID}-open-data/responses.csv").decode()
    responses = list(csv.DictReader(io.StringIO(text)))
    assert len({r["participant"] for r in responses}) == len(
        {r["pseudonym"] for r in formula_rows}
    )


def test_open_data_goes_to_stdout_unless_output_is_given(
    central_url: str, rows: list, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As every export: standard output by default, nothing left in the working directory."""
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    result = civicline(central_url, "export", "open-data", CID)
    assert result.exit_code == 0, result.output
    assert list(here.iterdir()) == []
    with zipfile.ZipFile(io.BytesIO(result.stdout_bytes)) as zf:
        assert f"{FOLDER}/SHA256SUMS" in zf.namelist()


def test_entries_unzip_readable_by_all(central_url: str, rows: list, tmp_path: Path) -> None:
    target = tmp_path / "open.zip"
    assert civicline(central_url, "export", "open-data", CID, "-o", str(target)).exit_code == 0
    with zipfile.ZipFile(target) as zf:
        modes = {info.filename: (info.external_attr >> 16) & 0o777 for info in zf.infolist()}
        assert set(modes.values()) == {0o644}, modes
        zf.extractall(tmp_path / "python")
    unzip = shutil.which("unzip")
    if unzip is None:
        return
    out = tmp_path / "unzipped"
    subprocess.run([unzip, "-q", str(target), "-d", str(out)], check=True)
    files = [p for p in out.rglob("*") if p.is_file()]
    assert files and {stat.S_IMODE(p.stat().st_mode) & 0o644 for p in files} == {0o644}
