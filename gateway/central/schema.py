"""Tables of the central consultation store. It never holds a phone number."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

# Gateways allowed to send events; the token is stored as a SHA-256 hash only.
gateways = Table(
    "gateways",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_contact_at", DateTime(timezone=True)),
    Column("newest_event_at", DateTime(timezone=True)),
    Column("backlog", Integer),  # events the gateway still held when it last synced
    Column("quarantined", Integer),  # events the centre refused as malformed, held back
)

# Published consultation definitions; `version` grows with each publish.
consultations = Table(
    "consultations",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("definition", Text, nullable=False),  # the YAML as published
    Column("published_at", DateTime(timezone=True), nullable=False),
)

# Response events, exactly once each: the primary key is the id made at ingest.
events = Table(
    "events",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("consultation_id", String(64), nullable=False),
    Column("question_id", String(64), nullable=False),
    Column("pseudonym", String(64), nullable=False),
    Column("channel", String(8), nullable=False),  # sms | voice
    Column("status", String(16), nullable=False),  # answered | unparsed | skipped | no_answer
    Column("value", Text),
    Column("raw", Text),
    Column("language", String(8), nullable=False),
    Column("answered_at", DateTime(timezone=True), nullable=False),
    Column("region", String(64)),
    Column("gateway", String(64), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    # The tallies (gateway/officials/tallies.py): changed answers are found in this index
    # alone; event_id breaks ties between events of the same moment.
    Index(
        "ix_events_tally", "consultation_id", "question_id", "pseudonym", "answered_at", "event_id"
    ),
    # SQLite, which can only group by sorting, reads these two in order instead: answers
    # per question, and each participant's events (for rates and breakdowns). PostgreSQL
    # groups by hashing and needs neither (and a long free-text value could exceed its
    # index entry limit).
    Index(
        "ix_events_values", "consultation_id", "question_id", "status", "channel", "value",
        "pseudonym", "region",
    ).ddl_if(dialect="sqlite"),
    Index(
        "ix_events_people", "consultation_id", "pseudonym", "question_id", "status", "channel"
    ).ddl_if(dialect="sqlite"),
)

# Officials who may sign in to the dashboard; passwords hashed (werkzeug.security).
officials = Table(
    "officials",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("password_hash", String(256), nullable=False),
    Column("is_admin", Integer, nullable=False, default=0),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Failed dashboard sign-ins, for the brute-force limit (gateway/officials/accounts.py).
signin_failures = Table(
    "signin_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False),
    Column("failed_at", DateTime(timezone=True), nullable=False),
    Index("ix_signin_failures_username", "username", "failed_at"),
)

# Failed gateway-token checks on the API, per remote address, for its brute-force limit
# (gateway/central/api.py). Only rows younger than the limit's window are kept.
token_failures = Table(
    "token_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("remote", String(64), nullable=False),
    Column("failed_at", DateTime(timezone=True), nullable=False),
    Index("ix_token_failures_remote", "remote", "failed_at"),
)
