"""Officials' accounts, their dashboard sessions and the sign-in brute-force limit: the
SQL on `central_officials`, `central_official_sessions` and `central_signin_failures` in
the central store."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from gateway.central.store.schema import official_sessions, officials, signin_failures
from gateway.central.store.upgrade import rename_previous_tables
from gateway.database import schema_transaction, write_transaction

USERNAME = re.compile(r"[a-z0-9][a-z0-9_.@-]{0,63}")
MIN_PASSWORD_LENGTH = 10
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
# A dashboard session ends this long after sign-in, however active (or when ended).
SESSION_LIFETIME = timedelta(hours=8)
# Checked against when the username is unknown, so a wrong name costs the same time.
_DUMMY_HASH = generate_password_hash("civicline-no-such-official")


class AccountError(ValueError):
    """A username or password that cannot be used; the message says why."""


class UnknownOfficial(AccountError):
    """No official has that username."""


@dataclass(frozen=True)
class Official:
    username: str
    is_admin: bool


@dataclass(frozen=True)
class OfficialInfo:
    username: str
    is_admin: bool
    created_at: datetime
    open_sessions: int


@dataclass(frozen=True)
class SignIn:
    official: Official | None  # None: refused
    locked_until: datetime | None = None  # set when refused for too many failures
    # For start_session: which password was checked (see official_sessions.credential).
    credential: str | None = field(default=None, repr=False)


def normalise_username(name: str) -> str:
    return name.strip().lower()


def hash_session_id(session_id: str) -> str:
    """What the central store keeps of a session id: its SHA-256, so that a copy of the
    database does not sign anyone in."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def _credential(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()


def _utc(moment: datetime) -> datetime:
    """SQLite keeps no time zone and hands timestamps back naive: store UTC only."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class Accounts:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create_tables(self) -> None:
        """The tables this needs, if the central store has not made them yet (renamed
        first when they have their names from before the `central_` prefix)."""
        tables = [officials, official_sessions, signin_failures]
        with schema_transaction(self.engine) as conn:
            rename_previous_tables(conn, tables)
            officials.metadata.create_all(conn, tables=tables)

    def add(self, username: str, password: str, *, admin: bool, now: datetime) -> Official:
        name = normalise_username(username)
        if USERNAME.fullmatch(name) is None:
            raise AccountError(
                f"username {username!r}: use lower-case letters, digits, '.', '_', '@' or '-'"
                " (at most 64, starting with a letter or digit)"
            )
        check_password(password)
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

    def require(self, username: str) -> Official:
        """The official, or UnknownOfficial saying which officials there are."""
        official = self.get(username)
        if official is None:
            with self.engine.connect() as conn:
                raise self._unknown(conn, username)
        return official

    def list_officials(self, now: datetime) -> list[OfficialInfo]:
        """Every official by username, with the number of their sessions still open."""
        o = officials.c
        s = official_sessions.c
        open_sessions = (
            select(s.username, func.count().label("n"))
            .where(s.expires_at > _utc(now))
            .group_by(s.username)
            .subquery()
        )
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(o.username, o.is_admin, o.created_at, open_sessions.c.n)
                .outerjoin(open_sessions, open_sessions.c.username == o.username)
                .order_by(o.username)
            ).all()
        return [
            OfficialInfo(row.username, bool(row.is_admin), _utc(row.created_at), row.n or 0)
            for row in rows
        ]

    def remove(self, username: str, now: datetime) -> int:
        """Delete the official and end their sessions. Returns how many were open."""
        name = normalise_username(username)
        with write_transaction(self.engine) as conn:
            removed = conn.execute(delete(officials).where(officials.c.username == name))
            if removed.rowcount == 0:
                raise self._unknown(conn, username)
            return self._end_sessions(conn, name, now)

    def reset_password(self, username: str, password: str, now: datetime) -> int:
        """Give the official a new password, end their sessions and lift a sign-in
        lockout of their name. Returns how many sessions were open."""
        name = normalise_username(username)
        check_password(password)
        password_hash = generate_password_hash(password)
        with write_transaction(self.engine) as conn:
            changed = conn.execute(
                update(officials)
                .where(officials.c.username == name)
                .values(password_hash=password_hash)
            )
            if changed.rowcount == 0:
                raise self._unknown(conn, username)
            conn.execute(delete(signin_failures).where(signin_failures.c.username == name))
            return self._end_sessions(conn, name, now)

    @staticmethod
    def _unknown(conn: Connection, username: str) -> UnknownOfficial:
        names = conn.execute(select(officials.c.username).order_by(officials.c.username))
        known = ", ".join(names.scalars()) or "none yet"
        return UnknownOfficial(
            f"no official named {normalise_username(username)!r} (officials: {known})"
        )

    # --- sessions -------------------------------------------------------------------------

    def start_session(
        self, signed_in: SignIn, now: datetime, *, replacing: str | None = None
    ) -> str:
        """A new session for an official sign_in accepted, ending `replacing` (the
        session the browser had) and every expired one. Returns the session id for the
        cookie; only its hash is stored."""
        if signed_in.official is None or signed_in.credential is None:
            raise ValueError("a session needs a successful sign-in")
        session_id = secrets.token_urlsafe(32)
        now = _utc(now)
        s = official_sessions.c
        with write_transaction(self.engine) as conn:
            conn.execute(delete(official_sessions).where(s.expires_at <= now))
            if replacing:
                conn.execute(
                    delete(official_sessions).where(s.id_hash == hash_session_id(replacing))
                )
            conn.execute(
                insert(official_sessions).values(
                    id_hash=hash_session_id(session_id),
                    username=signed_in.official.username,
                    credential=signed_in.credential,
                    created_at=now,
                    expires_at=now + SESSION_LIFETIME,
                )
            )
        return session_id

    def session_official(self, session_id: str, now: datetime) -> Official | None:
        """The official a session id signs in: None once the session was ended, has
        expired, or its official was removed or has another password since."""
        s = official_sessions.c
        o = officials.c
        with self.engine.connect() as conn:
            row = conn.execute(
                select(o.username, o.is_admin, o.password_hash, s.credential)
                .join_from(official_sessions, officials, o.username == s.username)
                .where(s.id_hash == hash_session_id(session_id), s.expires_at > _utc(now))
            ).first()
        if row is None or not hmac.compare_digest(_credential(row.password_hash), row.credential):
            return None
        return Official(row.username, bool(row.is_admin))

    def end_session(self, session_id: str) -> None:
        with write_transaction(self.engine) as conn:
            conn.execute(
                delete(official_sessions).where(
                    official_sessions.c.id_hash == hash_session_id(session_id)
                )
            )

    def end_sessions(self, username: str, now: datetime) -> int:
        """End every session of the official. Returns how many were open."""
        with write_transaction(self.engine) as conn:
            return self._end_sessions(conn, normalise_username(username), now)

    @staticmethod
    def _end_sessions(conn: Connection, name: str, now: datetime) -> int:
        s = official_sessions.c
        open_sessions = conn.execute(
            select(func.count()).where(s.username == name, s.expires_at > _utc(now))
        ).scalar_one()
        conn.execute(delete(official_sessions).where(s.username == name))
        return open_sessions

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
        official = Official(row.username, bool(row.is_admin))
        return SignIn(official, credential=_credential(row.password_hash))


def check_password(password: str) -> None:
    """Refuse a password the rule does not allow (AccountError says why)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
