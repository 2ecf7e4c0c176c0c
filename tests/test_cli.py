"""The console script as a whole: commands that only read never create a database."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import cli

READ_COMMANDS = [
    ["export", "tallies", "water-2026"],
    ["export", "responses", "water-2026"],
    ["export", "open-data", "water-2026"],
    ["officials", "list"],
    ["central", "gateways"],
    ["status"],
]


@pytest.mark.parametrize("args", READ_COMMANDS, ids=" ".join)
def test_a_read_command_creates_no_database(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    data = tmp_path / "data"
    env = {"DATA_DIR": str(data), "DATABASE_URL": None, "CENTRAL_DATABASE_URL": None}
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 1, result.output
    missing = data / ("civicline.db" if args == ["status"] else "central.db")
    assert f"no database at {missing}" in result.output
    assert not missing.exists() and not (data / "exports").exists()
    assert list(elsewhere.iterdir()) == []
