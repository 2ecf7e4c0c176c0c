"""Failed gateway-token checks, for the API's brute-force limit: the SQL on
`central_token_failures`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, insert, select

from gateway.central.store import schema
from gateway.database import write_transaction

TOKEN_FAILURE_LIMIT = 10  # failed token checks from one address ...
TOKEN_FAILURE_WINDOW = timedelta(minutes=10)  # ... within this long lock it out


class TokenFailures:
    """CentralStore's count of failed token checks per remote address."""

    engine: Engine

    def token_lockout(self, remote: str, now: datetime) -> datetime | None:
        """Until when `remote` may not present tokens: it failed TOKEN_FAILURE_LIMIT
        times within TOKEN_FAILURE_WINDOW. None when it may.

        Kept in the central database, so every web process and every restart agree.
        """
        f = schema.token_failures.c
        with self.engine.connect() as conn:
            recent = conn.execute(
                select(f.failed_at)
                .where(f.remote == remote[:64], f.failed_at > now - TOKEN_FAILURE_WINDOW)
                .order_by(f.failed_at.desc())
                .limit(TOKEN_FAILURE_LIMIT)
            ).scalars().all()
        if len(recent) < TOKEN_FAILURE_LIMIT:
            return None
        oldest = min(recent)
        oldest = oldest if oldest.tzinfo is not None else oldest.replace(tzinfo=UTC)
        return oldest + TOKEN_FAILURE_WINDOW

    def record_token_failure(self, remote: str, now: datetime) -> None:
        """Count one failed token check from `remote`; forget those out of the window."""
        failures = schema.token_failures
        with write_transaction(self.engine) as conn:
            conn.execute(
                delete(failures).where(failures.c.failed_at <= now - TOKEN_FAILURE_WINDOW)
            )
            conn.execute(insert(failures).values(remote=remote[:64], failed_at=now))
