"""Officials' accounts and the sign-in brute-force limit: the SQL on `officials` and
`signin_failures` in the central store."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from gateway.central.schema import officials, signin_failures
from gateway.store.database import schema_transaction, write_transaction

USERNAME = re.compile(r"[a-z0-9][a-z0-9_.@-]{0,63}")
MIN_PASSWORD_LENGTH = 10
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
# Checked against when the username is unknown, so a wrong name costs the same time.
_DUMMY_HASH = generate_password_hash("civicline-no-such-official")


class AccountError(ValueError):
    """A username or password that cannot be used; the message says why."""


@dataclass(frozen=True)
class Official:
    username: str
    is_admin: bool


@dataclass(frozen=True)
class SignIn:
    official: Official | None  # None: refused
    locked_until: datetime | None = None  # set when refused for too many failures


def normalise_username(name: str) -> str:
    return name.strip().lower()


class Accounts:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create_tables(self) -> None:
        """The two tables this needs, if the central store has not made them yet."""
        with schema_transaction(self.engine) as conn:
            officials.metadata.create_all(conn, tables=[officials, signin_failures])

    def add(self, username: str, password: str, *, admin: bool, now: datetime) -> Official:
        name = normalise_username(username)
        if USERNAME.fullmatch(name) is None:
            raise AccountError(
                f"username {username!r}: use lower-case letters, digits, '.', '_', '@' or '-'"
                " (at most 64, starting with a letter or digit)"
            )
        if len(password) < MIN_PASSWORD_LENGTH:
            raise AccountError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
        try:
            with write_transaction(self.engine) as conn:
                conn.execute(
                    insert(officials).values(
                        username=name,
                        password_hash=generate_password_hash(password),
                        is_admin=int(admin),
                        created_at=now,
                    )
                )
        except IntegrityError as exc:
            raise AccountError(f"an official named {name!r} exists already") from exc
        return Official(name, admin)

    def get(self, username: str) -> Official | None:
        o = officials.c
        with self.engine.connect() as conn:
            row = conn.execute(
                select(o.username, o.is_admin).where(o.username == normalise_username(username))
            ).first()
        return None if row is None else Official(row.username, bool(row.is_admin))

    def sign_in(self, username: str, password: str, now: datetime) -> SignIn:
        """Check a password, unless the name has MAX_FAILURES failures in FAILURE_WINDOW.

        Failures are counted per username, known or not, in the database, so the limit
        holds across processes and restarts and says nothing about which names exist.
        An attempt is recorded as a failure before the (slow) password check and the
        record is removed if it succeeds, so parallel guesses count too, and no
        transaction stays open while the hash is computed.
        """
        name = normalise_username(username)[:64]
        f = signin_failures.c
        o = officials.c
        since = now - FAILURE_WINDOW
        with write_transaction(self.engine) as conn:
            count, oldest = conn.execute(
                select(func.count(), func.min(f.failed_at)).where(
                    f.username == name, f.failed_at > since
                )
            ).one()
            if count >= MAX_FAILURES:
                if oldest.tzinfo is None:  # SQLite
                    oldest = oldest.replace(tzinfo=now.tzinfo)
                return SignIn(None, locked_until=oldest + FAILURE_WINDOW)
            conn.execute(delete(signin_failures).where(f.failed_at <= since))
            conn.execute(insert(signin_failures).values(username=name, failed_at=now))
            row = conn.execute(
                select(o.username, o.password_hash, o.is_admin).where(o.username == name)
            ).first()
        matches = check_password_hash(row.password_hash if row else _DUMMY_HASH, password)
        if row is None or not matches:
            return SignIn(None)
        with write_transaction(self.engine) as conn:
            conn.execute(delete(signin_failures).where(f.username == name))
        return SignIn(Official(row.username, bool(row.is_admin)))
