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
    UniqueConstraint,
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
    # Set when the central store rejected the event as malformed: it is quarantined (kept,
    # never sent again until an operator runs `civicline sync --retry-quarantined`).
    Column("sync_error", Text),
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

# The consultations last fetched from the central store (CENTRAL_URL set), so a gateway
# that restarts offline still serves them. The set's ETag is in gateway_state.
consultation_cache = Table(
    "consultation_cache",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("definition", Text, nullable=False),  # the YAML as published
    Column("fetched_at", DateTime(timezone=True), nullable=False),
)

# One row per voice call, keyed by Twilio's CallSid: where the call is, so every action
# webhook continues it. Answers are response events (channel "voice"), written as given.
# status: active | finished (reached the end) | ended (hung up before) | rejected (missed
# call, for a call-back).
calls = Table(
    "calls",
    metadata,
    Column("call_sid", String(64), primary_key=True),
    Column("pseudonym", String(64), nullable=False),
    Column("consultation_id", String(64)),
    Column("language", String(8)),
    Column("position", Integer, nullable=False, default=0),
    Column("silences", Integer, nullable=False, default=0),
    Column("invalid_tries", Integer, nullable=False, default=0),
    Column("step", Integer, nullable=False, default=0),
    Column("status", String(16), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
    Index("ix_calls_pseudonym_updated", "pseudonym", "updated_at"),
)

# Free call-backs after a missed call. status: pending (due at next_attempt_at) | placing
# (claimed by one placer) | placed (ringing; call_sid set) | answered | done | failed.
callbacks = Table(
    "callbacks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pseudonym", String(64), nullable=False),
    Column("phone", String(32), nullable=False),
    Column("consultation_id", String(64), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("status", String(16), nullable=False),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("call_sid", String(64)),
    Column("last_error", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_callbacks_due", "status", "next_attempt_at"),
    Index("ix_callbacks_pseudonym_requested", "pseudonym", "requested_at"),
    Index("ix_callbacks_call_sid", "call_sid"),
)

# Outreach as the centre published it (GET /api/v1/outreach), by id: the JSON definition as
# received. The set's ETag is in gateway_state. See docs/outreach.md.
outreach = Table(
    "outreach",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("consultation_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("definition", Text, nullable=False),
    Column("fetched_at", DateTime(timezone=True), nullable=False),
)

# Contact lists imported on this gateway (`civicline contacts import`): who may be
# invited, and on what basis. The numbers never leave the gateway.
contacts = Table(
    "contacts",
    metadata,
    Column("list", String(64), primary_key=True),
    Column("pseudonym", String(64), primary_key=True),
    Column("phone", String(32), nullable=False),
    Column("language", String(8)),
    Column("region", String(64)),
    Column("basis", Text, nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=False),
)

# Numbers the provider refused for good: invalid_number (21211), not_mobile (21614),
# unreachable. An opt-out is participants.opted_out, as STOP sets it.
suppressions = Table(
    "suppressions",
    metadata,
    Column("phone", String(32), primary_key=True),
    Column("reason", String(32), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

# One row per (outreach, recipient, channel): what was or will be sent, exactly once. The
# row id travels in the status-callback URL. state: pending -> sending -> sent ->
# delivered | failed | excluded.
outbound_messages = Table(
    "outbound_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("outreach_id", String(64), nullable=False),
    Column("pseudonym", String(64), nullable=False),
    Column("phone", String(32), nullable=False),
    Column("channel", String(8), nullable=False),
    Column("language", String(8), nullable=False),
    Column("body", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("reason", Text),
    Column("provider_sid", String(64)),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("claimed_at", DateTime(timezone=True)),
    Column("sent_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("outreach_id", "pseudonym", "channel", name="uq_outbound_recipient"),
    # Claims take the lowest due id of one outreach, channel and state: no sort.
    Index("ix_outbound_state", "outreach_id", "state", "channel", "id"),
    Index("ix_outbound_phone", "phone"),
)
