"""`civicline officials add`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner, Result
from sqlalchemy import select

from gateway.central.schema import officials
from gateway.cli import cli
from gateway.officials.accounts import Accounts
from gateway.store.database import make_engine

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def add(central_url: str, *args: str, input: str) -> Result:
    return CliRunner().invoke(
        cli, ["officials", "add", *args], input=input, env={"CENTRAL_DATABASE_URL": central_url}
    )


def test_add_with_the_password_asked_twice(central_url: str) -> None:
    result = add(central_url, "Ada", input="a long password\na long password\n")
    assert result.exit_code == 0, result.output
    assert "Password:" in result.output and "Repeat for confirmation:" in result.output
    assert "a long password" not in result.output  # hidden while typed
    assert result.output.strip().endswith("added official ada")
    engine = make_engine(central_url)
    try:
        accounts = Accounts(engine)
        assert accounts.sign_in("ada", "a long password", NOW).official is not None
        with engine.connect() as conn:
            stored = conn.execute(select(officials.c.password_hash)).scalar_one()
        assert "a long password" not in stored and stored.startswith(("scrypt:", "pbkdf2:"))
    finally:
        engine.dispose()


def test_two_different_entries_are_refused_then_asked_again(central_url: str) -> None:
    result = add(
        central_url, "ada", input="a long password\nanother one!\nsecond try ok\nsecond try ok\n"
    )
    assert result.exit_code == 0, result.output
    assert "Error: The two entered values do not match." in result.output


def test_add_admin_from_stdin(central_url: str) -> None:
    result = add(central_url, "root", "--admin", "--password-stdin", input="from a pipe 123\n")
    assert result.exit_code == 0, result.output
    assert result.output == "added administrator root\n"
    engine = make_engine(central_url)
    try:
        signed = Accounts(engine).sign_in("root", "from a pipe 123", NOW).official
        assert signed is not None and signed.is_admin
    finally:
        engine.dispose()


def test_refusals(central_url: str, tmp_path: Path) -> None:
    short = add(central_url, "ada", "--password-stdin", input="short\n")
    assert short.exit_code == 1
    assert "the password needs at least 10 characters" in short.output
    bad = add(central_url, "ada smith", "--password-stdin", input="a long password\n")
    assert bad.exit_code == 1 and "username 'ada smith'" in bad.output
    assert add(central_url, "ada", "--password-stdin", input="a long password\n").exit_code == 0
    again = add(central_url, "ADA", "--password-stdin", input="a long password\n")
    assert again.exit_code == 1 and "an official named 'ada' exists already" in again.output
