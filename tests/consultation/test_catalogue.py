"""Catalogues: the files a set of paths holds, and what must be unique across files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.consultation.catalogue import load_catalog, load_file
from gateway.consultation.model import Status
from tests.consultation.documents import BASE, catalog_errors, document, write

REPO = Path(__file__).resolve().parents[2]


def test_example_file_loads_and_is_open_today() -> None:
    catalog = load_catalog([REPO / "ivr_flows"])
    c = catalog.get("water-2026")
    assert c is not None
    assert catalog.by_keyword("maji") is c
    assert catalog.by_voice_number("+254700000001") is c
    assert c.languages == ("en", "sw")
    assert c.status(datetime(2026, 11, 27, 12, tzinfo=UTC)) is Status.OPEN
    assert [q.id for q in c.profile] == ["age_band", "gender", "disability"]
    assert [o.id for o in c.profile[0].options] == ["under_18", "18_34", "35_59", "60_plus"]
    assert load_file(REPO / "ivr_flows" / "water-2026.yaml") == c


def other(**changes: Any) -> dict[str, Any]:
    base = {
        "id": "roads-2026",
        "keywords": ["STREETS"],  # not ROADS: that is a label
        "voice": {"numbers": ["+254700000002"]},
    }
    base.update(changes)
    return document(**base)


def test_catalog_reads_yaml_files_of_a_directory_sorted(tmp_path: Path) -> None:
    write(tmp_path, "b.yml", other())
    write(tmp_path, "a.yaml", BASE)
    (tmp_path / "notes.txt").write_text("not a flow")
    audio = tmp_path / "audio" / "water-2026" / "en"
    audio.mkdir(parents=True)
    (audio / "priority.yaml").write_text("broken: [")
    catalog = load_catalog([tmp_path])
    assert [c.id for c in catalog.consultations] == ["water-2026", "roads-2026"]
    assert catalog.by_keyword("streets").id == "roads-2026"  # type: ignore[union-attr]
    assert catalog.consultations[1].source == str(tmp_path / "b.yml")


def test_catalog_accepts_files_and_reads_each_once(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", BASE)
    catalog = load_catalog([path, tmp_path])
    assert [c.id for c in catalog.consultations] == ["water-2026"]


def test_catalog_reports_missing_paths(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    assert catalog_errors([missing]) == [f"{missing}: no such file or directory"]


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", BASE)
    write(tmp_path, "b.yaml", other(id="water-2026"))
    assert catalog_errors([tmp_path]) == [
        f"{tmp_path / 'b.yaml'}: id: consultation id 'water-2026' is also used by "
        f"{tmp_path / 'a.yaml'}"
    ]


def test_duplicate_keywords_across_files_ignore_case(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", BASE)
    write(tmp_path, "b.yaml", other(keywords=["streets", "Maji"]))
    assert catalog_errors([tmp_path]) == [
        f"{tmp_path / 'b.yaml'}: keywords[1]: keyword 'MAJI' is also used by "
        f"{tmp_path / 'a.yaml'} (keywords[1]); keywords are not case-sensitive"
    ]


def test_same_voice_number_in_two_files(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", BASE)
    write(tmp_path, "b.yaml", other(voice={"numbers": ["+254 700 000 001"]}))
    assert catalog_errors([tmp_path]) == [
        f"{tmp_path / 'b.yaml'}: voice.numbers[0]: voice number +254700000001 is also used by "
        f"{tmp_path / 'a.yaml'} (voice.numbers[0])"
    ]


def test_catalog_collects_errors_of_every_file(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", document(embargo="no"))
    write(tmp_path, "b.yaml", other(id="water-2026", title={"en": "Roads"}))
    (tmp_path / "c.yaml").write_text("id: [\n")
    errors = catalog_errors([tmp_path])
    assert errors[0] == f"{tmp_path / 'a.yaml'}: embargo: expected true or false, got text 'no'"
    assert errors[1] == f"{tmp_path / 'b.yaml'}: title.sw: missing translation for language 'sw'"
    assert errors[2].startswith(f"{tmp_path / 'c.yaml'}: line 2, column 1: YAML syntax error")
    # cross-file checks still see the id of a file that has other errors
    assert errors[3] == (
        f"{tmp_path / 'b.yaml'}: id: consultation id 'water-2026' is also used by "
        f"{tmp_path / 'a.yaml'}"
    )
    assert len(errors) == 4
