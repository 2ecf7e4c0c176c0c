"""Officials' sessions in the central store (SQLite and PostgreSQL): opened by a sign-in,
checked on every request, ended by signing out, removal, a new password or time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from gateway.central.store.accounts import (
    SESSION_LIFETIME,
    Accounts,
    Official,
    SignIn,
    UnknownOfficial,
    hash_session_id,
)
from gateway.central.store.schema import official_sessions

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
PASSWORD = "a long password"


@pytest.fixture
def accounts(central_engine: Engine) -> Accounts:
    accounts = Accounts(central_engine)
    accounts.add("ada", PASSWORD, admin=False, now=NOW)
    accounts.add("root", PASSWORD, admin=True, now=NOW)
    return accounts


def session_for(accounts: Accounts, name: str, now: datetime = NOW) -> str:
    signed_in = accounts.sign_in(name, PASSWORD, now)
    assert signed_in.official is not None
    return accounts.start_session(signed_in, now)


def rows(accounts: Accounts) -> int:
    with accounts.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(official_sessions)).scalar_one()


def test_a_session_signs_in_until_it_ends(accounts: Accounts) -> None:
    session_id = session_for(accounts, "ada")
    assert accounts.session_official(session_id, NOW) == Official("ada", False)
    assert accounts.session_official("another id", NOW) is None
    accounts.end_session(session_id)
    assert accounts.session_official(session_id, NOW) is None
    assert rows(accounts) == 0


def test_only_the_ids_hash_is_stored(accounts: Accounts) -> None:
    session_id = session_for(accounts, "ada")
    with accounts.engine.connect() as conn:
        [stored] = conn.execute(select(official_sessions)).all()
    assert stored.id_hash == hash_session_id(session_id)
    assert session_id not in tuple(str(v) for v in stored)


def test_a_session_expires_after_its_lifetime(accounts: Accounts) -> None:
    session_id = session_for(accounts, "ada")
    end = NOW + SESSION_LIFETIME
    assert accounts.session_official(session_id, end - timedelta(seconds=1)) is not None
    assert accounts.session_official(session_id, end) is None
    later = session_for(accounts, "root", end)  # a sign-in clears expired sessions
    assert rows(accounts) == 1
    assert accounts.session_official(later, end) == Official("root", True)


def test_removal_and_a_new_password_end_only_that_officials_sessions(accounts: Accounts) -> None:
    ada = [session_for(accounts, "ada"), session_for(accounts, "ada")]
    root = session_for(accounts, "root")
    assert accounts.reset_password("ADA", "another password", NOW) == 2
    assert [accounts.session_official(s, NOW) for s in ada] == [None, None]
    assert accounts.session_official(root, NOW) is not None
    assert accounts.remove("root", NOW) == 1
    assert accounts.session_official(root, NOW) is None
    assert rows(accounts) == 0


def test_a_sign_in_racing_a_new_password_gets_no_session(accounts: Accounts) -> None:
    """The password was checked, then reset before the session was stored: the session
    belongs to the old password and signs no one in."""
    checked = accounts.sign_in("ada", PASSWORD, NOW)
    accounts.reset_password("ada", "another password", NOW)
    session_id = accounts.start_session(checked, NOW)
    assert accounts.session_official(session_id, NOW) is None


def test_a_session_outliving_its_official_does_not_sign_in_a_namesake(
    accounts: Accounts,
) -> None:
    checked = accounts.sign_in("ada", PASSWORD, NOW)
    accounts.remove("ada", NOW)
    session_id = accounts.start_session(checked, NOW)  # raced the removal
    accounts.add("ada", "someone else's password", admin=True, now=NOW)
    assert accounts.session_official(session_id, NOW) is None


def test_no_session_without_a_successful_sign_in(accounts: Accounts) -> None:
    with pytest.raises(ValueError, match="needs a successful sign-in"):
        accounts.start_session(accounts.sign_in("ada", "wrong password", NOW), NOW)
    with pytest.raises(ValueError, match="needs a successful sign-in"):
        accounts.start_session(SignIn(Official("ada", True)), NOW)


def test_unknown_names(accounts: Accounts) -> None:
    with pytest.raises(UnknownOfficial, match=r"no official named 'bob' \(officials: ada, root\)"):
        accounts.remove("bob", NOW)
    with pytest.raises(UnknownOfficial, match="no official named 'bob'"):
        accounts.reset_password("bob", "another password", NOW)
    with pytest.raises(UnknownOfficial, match="no official named 'bob'"):
        accounts.require(" Bob ")
    assert accounts.require(" Ada ") == Official("ada", False)


def test_list_officials(accounts: Accounts) -> None:
    session_for(accounts, "ada")
    session_for(accounts, "ada", NOW - SESSION_LIFETIME)  # expired
    listed = accounts.list_officials(NOW)
    assert [(o.username, o.is_admin, o.created_at, o.open_sessions) for o in listed] == [
        ("ada", False, NOW, 1),
        ("root", True, NOW, 0),
    ]
