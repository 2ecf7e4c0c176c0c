"""`civicline officials add|list|remove|reset-password`, and what `civicline export`
explains or refuses, and how it writes its file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, func, inspect, select

from gateway.central.store.accounts import SESSION_LIFETIME, Accounts
from gateway.central.store.schema import (
    final_states,
    official_sessions,
    officials,
    participants,
    signin_failures,
)
from gateway.cli import cli
from gateway.database import make_engine
from tests.central.officials.command_line import civicline

CID = "survey-test"
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def add(central_url: str, *args: str, input: str) -> Result:
    return officials_cli(central_url, "add", *args, input=input)


def officials_cli(central_url: str, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(
        cli, ["officials", *args], input=input, env={"CENTRAL_DATABASE_URL": central_url}
    )


def test_add_with_the_password_asked_twice(central_url: str) -> None:
    result = add(central_url, "Ada", input="a long password\na long password\n")
    assert result.exit_code == 0, result.output
    assert "Password (at least 10 characters):" in result.output
    assert "Repeat for confirmation:" in result.output
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


def test_the_password_rule_is_told_before_the_password_is_typed(central_url: str) -> None:
    result = add(central_url, "ada", input="too short\na long password\na long password\n")
    assert result.exit_code == 0, result.output
    first_prompt = result.output.index("Password")
    assert "at least 10 characters" in result.output[: result.output.index(":")]
    refusal = result.output.index("Error: the password needs at least 10 characters")
    # Refused at once, before it is typed a second time, then asked for again.
    assert first_prompt < refusal < result.output.index("Repeat for confirmation:")
    assert result.output.count("Repeat for confirmation:") == 1
    assert result.output.strip().endswith("added official ada")


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


# --- list, remove, reset-password ---------------------------------------------------------


@pytest.fixture
def accounts(central_url: str) -> Iterator[Accounts]:
    """ada (with two open sessions and one expired) and root, an administrator."""
    engine = make_engine(central_url)
    accounts = Accounts(engine)
    accounts.create_tables()
    accounts.add("ada", "a long password", admin=False, now=NOW)
    accounts.add("root", "a long password", admin=True, now=NOW + timedelta(hours=1))
    now = datetime.now(UTC)
    signed_in = accounts.sign_in("ada", "a long password", now)
    accounts.start_session(signed_in, now)
    accounts.start_session(signed_in, now)
    accounts.start_session(signed_in, now - SESSION_LIFETIME)  # expired, not yet cleaned up
    yield accounts
    engine.dispose()


def sessions_of(accounts: Accounts, name: str) -> int:
    with accounts.engine.connect() as conn:
        return conn.execute(
            select(func.count())
            .select_from(official_sessions)
            .where(official_sessions.c.username == name)
        ).scalar_one()


def test_list(central_url: str, accounts: Accounts) -> None:
    result = officials_cli(central_url, "list")
    assert result.exit_code == 0, result.output
    assert result.output == (
        "username  role           added (UTC)       open sessions\n"
        "ada       official       2026-06-01 00:00  2\n"
        "root      administrator  2026-06-01 01:00  0\n"
    )


def test_list_without_officials(central_url: str, central_engine: Engine) -> None:
    result = officials_cli(central_url, "list")
    assert result.exit_code == 0, result.output
    assert result.output == "no officials yet: add one with `civicline officials add NAME`\n"


def test_remove_asks_first(central_url: str, accounts: Accounts) -> None:
    declined = officials_cli(central_url, "remove", "Ada", input="n\n")
    assert declined.exit_code == 1
    assert declined.output == "Remove official ada? [y/N]: n\nAborted!\n"
    assert accounts.get("ada") is not None and sessions_of(accounts, "ada") == 3

    confirmed = officials_cli(central_url, "remove", "Ada", input="y\n")
    assert confirmed.exit_code == 0, confirmed.output
    assert confirmed.output == (
        "Remove official ada? [y/N]: y\nremoved official ada; ended 2 open sessions\n"
    )
    assert accounts.get("ada") is None and sessions_of(accounts, "ada") == 0
    assert accounts.sign_in("ada", "a long password", NOW).official is None
    assert accounts.get("root") is not None


def test_remove_with_yes(central_url: str, accounts: Accounts) -> None:
    result = officials_cli(central_url, "remove", "root", "--yes")
    assert result.exit_code == 0, result.output
    assert result.output == "removed official root; ended 0 open sessions\n"
    assert [o.username for o in accounts.list_officials(NOW)] == ["ada"]


def test_unknown_names_are_explained(central_url: str, accounts: Accounts) -> None:
    for args in (["remove", "bob"], ["remove", "bob", "--yes"], ["reset-password", "bob"]):
        result = officials_cli(central_url, *args, input="a long password\n" * 2)
        assert result.exit_code == 1
        # Said before any confirmation or password is asked for.
        assert result.output == "Error: no official named 'bob' (officials: ada, root)\n"
    accounts.remove("ada", NOW)
    accounts.remove("root", NOW)
    result = officials_cli(central_url, "remove", "ada", "--yes")
    assert result.output == "Error: no official named 'ada' (officials: none yet)\n"


def test_reset_password_asked_twice(central_url: str, accounts: Accounts) -> None:
    result = officials_cli(
        central_url, "reset-password", "ada", input="a new password\na new password\n"
    )
    assert result.exit_code == 0, result.output
    assert "Password (at least 10 characters):" in result.output
    assert "Repeat for confirmation:" in result.output
    assert "a new password" not in result.output
    assert result.output.endswith("new password for ada; ended 2 open sessions\n")
    assert sessions_of(accounts, "ada") == 0
    assert accounts.sign_in("ada", "a long password", NOW).official is None
    assert accounts.sign_in("ada", "a new password", NOW).official is not None
    assert accounts.sign_in("root", "a long password", NOW).official is not None


def test_reset_password_from_stdin_lifts_a_lockout(central_url: str, accounts: Accounts) -> None:
    now = datetime.now(UTC)
    for _ in range(5):
        assert accounts.sign_in("ada", "forgotten it", now).official is None
    assert accounts.sign_in("ada", "a long password", now).locked_until is not None
    result = officials_cli(
        central_url, "reset-password", "ADA", "--password-stdin", input="from a pipe 123\n"
    )
    assert result.exit_code == 0, result.output
    assert result.output == "new password for ada; ended 2 open sessions\n"
    with accounts.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(signin_failures)).scalar_one() == 0
    assert accounts.sign_in("ada", "from a pipe 123", now).official is not None


def test_reset_password_refusals(central_url: str, accounts: Accounts) -> None:
    short = officials_cli(central_url, "reset-password", "ada", "--password-stdin", input="x\n")
    assert short.exit_code == 1
    assert short.output == "Error: the password needs at least 10 characters\n"
    assert sessions_of(accounts, "ada") == 3  # nothing changed
    assert accounts.sign_in("ada", "a long password", NOW).official is not None


# --- civicline export -----------------------------------------------------------------------


def test_unknown_breakdown_and_consultation_are_explained(central_url: str, rows: list) -> None:
    result = civicline(central_url, "export", "tallies", CID, "--by", "comment")
    assert result.exit_code == 2
    assert "choose one of age_band, gender, disability, region, channel" in result.output
    result = civicline(central_url, "export", "tallies", "nope")
    assert result.exit_code == 1
    assert "no published consultation 'nope' (published: survey-test)" in result.output


def test_no_central_store_is_explained(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    result = civicline(url, "export", "responses", CID)
    assert result.exit_code == 1
    assert f"no database at {tmp_path / 'empty.db'}: nothing to read" in result.output
    assert not (tmp_path / "empty.db").exists()  # not made by reading it
    (tmp_path / "empty.db").touch()
    result = civicline(url, "export", "responses", CID)
    assert result.exit_code == 1
    assert "has no events table" in result.output


def test_a_store_from_before_final_states_is_upgraded_by_the_export(
    central_url: str, rows: list, central_engine: Engine
) -> None:
    """Its events, stored before the final states were kept, still count once each."""
    expected = civicline(central_url, "export", "tallies", CID, "--format", "json")
    assert expected.exit_code == 0, expected.output
    final_states.drop(central_engine)
    participants.drop(central_engine)
    result = civicline(central_url, "export", "tallies", CID, "--format", "json")
    assert result.exit_code == 0, result.output
    before, after = json.loads(expected.stdout), json.loads(result.stdout)
    assert before.pop("generated_at") and after.pop("generated_at")
    assert after == before
    assert inspect(central_engine).has_table("central_final_states")


def test_output_file_appears_only_when_complete(
    central_url: str, rows: list, tmp_path: Path
) -> None:
    target = tmp_path / "out.csv"
    result = civicline(central_url, "export", "responses", CID, "-o", str(target))
    assert result.exit_code == 0
    assert f"wrote responses of {CID} to {target}" in result.stderr
    assert target.read_text().startswith("event_id,")
    assert not (tmp_path / "out.csv.part").exists()
