"""Tables of the gateway's local store (SQLAlchemy Core)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData()

# One row per phone number that has written or called. The number stays on the gateway;
# everything that leaves it carries the pseudonym only.
participants = Table(
    "participants",
    metadata,
    Column("pseudonym", String(64), primary_key=True),
    Column("phone", String(32), nullable=False),
    Column("language", String(8)),
    Column("opted_out", Boolean, nullable=False, default=False),
    Column("active_consultation", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Every inbound webhook that had effects, keyed by the provider's id (MessageSid, or
# CallSid plus step), with the reply sent, so a retry gets the same reply and no effect.
inbound = Table(
    "inbound",
    metadata,
    Column("provider_id", String(128), primary_key=True),
    Column("channel", String(8), nullable=False),
    Column("pseudonym", String(64), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("reply", Text),
    Index("ix_inbound_pseudonym_received", "pseudonym", "received_at"),
)

# A participant's progress through one consultation.
sessions = Table(
    "sessions",
    metadata,
    Column("pseudonym", String(64), primary_key=True),
    Column("consultation_id", String(64), primary_key=True),
    Column("language", String(8), nullable=False),
    Column("position", Integer, nullable=False),
    Column("invalid_tries", Integer, nullable=False, default=0),
    Column("completed", Boolean, nullable=False, default=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Response events: the outbox. `synced_at` is NULL until the central store acknowledged it.
events = Table(
    "events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("consultation_id", String(64), nullable=False),
    Column("question_id", String(64), nullable=False),
    Column("pseudonym", String(64), nullable=False),
    Column("channel", String(8), nullable=False),
    Column("status", String(16), nullable=False),
    Column("value", Text),
    Column("raw", Text),
    Column("language", String(8), nullable=False),
    Column("answered_at", DateTime(timezone=True), nullable=False),
    Column("region", String(64)),
    Column("synced_at", DateTime(timezone=True)),
    Index("ix_events_unsynced", "seq", sqlite_where=text("synced_at IS NULL"),
          postgresql_where=text("synced_at IS NULL")),
)

# Small key/value facts about this gateway: last sync, last error, consultations etag.
gateway_state = Table(
    "gateway_state",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
