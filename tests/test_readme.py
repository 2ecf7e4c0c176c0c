"""README.md and config/.env.example say what the commands and files really do: one way
to run `civicline`, and an example environment that is read the way it says."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import fields
from pathlib import Path

import pytest

from gateway.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
ENV_EXAMPLE = ROOT / "config" / ".env.example"
# Read by the Procfile's and gunicorn's own lines, not by Settings.
OTHER_VARIABLES = {"CIVICLINE_ENV", "LOG_LEVEL", "HOST", "PORT", "WEB_CONCURRENCY", "CENTRAL_PORT"}


def shell_blocks(text: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL)


def test_every_command_runs_civicline_the_way_the_quick_start_installs_it() -> None:
    lines = [line.strip() for block in shell_blocks(README) for line in block.splitlines()]
    commands = [
        line
        for line in lines
        if re.search(r"(^|[\s|;&(])civicline\b", line) or "bin/civicline" in line
    ]
    assert len(commands) > 10
    bare = [
        line
        for line in commands
        if re.search(r"(^|[^/\w])civicline\s", line.replace(".venv/bin/civicline", ""))
    ]
    assert bare == []


def test_dot_env_is_ignored_by_git() -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    done = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=ROOT, check=False)
    assert done.returncode == 0, ".env (copied from config/.env.example) is not ignored"


def test_the_example_environment_says_what_reads_it_and_the_readme_agrees() -> None:
    example = ENV_EXAMPLE.read_text(encoding="utf-8")
    assert "honcho" in example.splitlines()[1] or "honcho" in example.splitlines()[0]
    assert "honcho start" in README and "`.env`" in README


def test_every_variable_of_the_example_is_read() -> None:
    known = {f.name.upper() for f in fields(Settings)} | OTHER_VARIABLES
    names = [
        line.split("=", 1)[0].strip()
        for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert names and set(names) <= known, set(names) - known
