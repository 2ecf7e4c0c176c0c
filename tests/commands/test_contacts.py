"""`civicline contacts import|lists`: a list imported with its basis, bad rows by line,
nothing imported from a file with bad rows unless asked, and no number printed."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.application.services import open_local_store
from gateway.cli import cli
from gateway.settings import Settings
from gateway.store.contacts import ContactStore
from tests.conftest import FIXTURE_FLOWS


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    values = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'g.db'}",
        "CENTRAL_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}",
        "FLOWS_DIR": str(FIXTURE_FLOWS),
        "DEFAULT_REGION": "KE",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("REDIS_URL", raising=False)
    return Settings.from_env()


def csv_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "people.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_list_is_imported_with_its_basis_and_listed_without_numbers(
    env: Settings, tmp_path: Path,
) -> None:
    path = csv_file(tmp_path, "phone,language\n0712345678,sw\n+254722000001,en\n"
                              "+254722000001,en\n")
    result = CliRunner().invoke(cli, ["contacts", "import", path, "--list", "elders",
                                      "--basis", "consent at the baraza, 2026-11"])
    assert result.exit_code == 0, result.output
    assert "elders: 2 added, 0 updated, 1 duplicates merged" in result.output
    listed = CliRunner().invoke(cli, ["contacts", "lists"])
    assert listed.exit_code == 0
    assert "elders\t2 contacts\tbasis: consent at the baraza, 2026-11" in listed.output
    assert "712345678" not in listed.output + result.output
    assert [c.count for c in ContactStore(open_local_store(env).engine).lists()] == [2]


def test_bad_rows_are_reported_by_line_and_nothing_is_imported_unless_asked(
    env: Settings, tmp_path: Path,
) -> None:
    path = csv_file(tmp_path, "phone,language\n0712345678,sw\nnot a number,en\n")
    result = CliRunner().invoke(cli, ["contacts", "import", path, "--list", "l",
                                      "--basis", "b"])
    assert result.exit_code == 1
    assert "line 3: not a phone number" in result.output
    assert "nothing imported" in result.output
    store = ContactStore(open_local_store(env).engine)
    assert store.lists() == []
    skipped = CliRunner().invoke(cli, ["contacts", "import", path, "--list", "l",
                                       "--basis", "b", "--skip-invalid"])
    assert skipped.exit_code == 0, skipped.output
    assert [c.count for c in store.lists()] == [1]


def test_nobody_is_imported_without_a_basis(env: Settings, tmp_path: Path) -> None:
    path = csv_file(tmp_path, "phone,language\n0712345678,sw\n")
    missing = CliRunner().invoke(cli, ["contacts", "import", path, "--list", "l"])
    assert missing.exit_code == 2 and "--basis" in missing.output
    blank = CliRunner().invoke(cli, ["contacts", "import", path, "--list", "l",
                                     "--basis", "  "])
    assert blank.exit_code == 2 and "--basis must say why" in blank.output
