"""Tables of the central consultation store. It never holds a phone number.

Every table and index is named `central_...`, so that the centre can share a database
with a gateway (gateway/store/schema.py); a database from before the prefix is renamed
at start-up (gateway/central/store/upgrade.py)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

# Gateways allowed to send events; the token is stored as a SHA-256 hash only.
gateways = Table(
    "central_gateways",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_contact_at", DateTime(timezone=True)),
    Column("newest_event_at", DateTime(timezone=True)),
    Column("backlog", Integer),  # events the gateway still held when it last synced
    Column("quarantined", Integer),  # events the centre refused, held back by the gateway
)

# Published consultation definitions; `version` grows with each publish.
consultations = Table(
    "central_consultations",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("definition", Text, nullable=False),  # the YAML as published
    Column("published_at", DateTime(timezone=True), nullable=False),
)

# Response events, exactly once each: the primary key is the id made at ingest.
events = Table(
    "central_events",
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
    # The responses export reads each participant's history for a question in this
    # order; event_id breaks ties between events of the same moment.
    Index(
        "ix_central_events_tally",
        "consultation_id", "question_id", "pseudonym", "answered_at", "event_id",
    ),
)

# Each participant's final state for each question: the columns of their latest event for
# it (greatest answered_at, then event_id), kept up to date as events arrive
# (gateway/central/store/final_states.py), so that a tally reads one row per participant and
# question instead of ranking every event. `answered_ever`: any of their events for the
# question was an answer (the response rate counts a changed answer too).
final_states = Table(
    "central_final_states",
    metadata,
    Column("consultation_id", String(64), primary_key=True),
    Column("question_id", String(64), primary_key=True),
    Column("pseudonym", String(64), primary_key=True),
    Column("event_id", String(36), nullable=False),
    Column("answered_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),
    Column("value", Text),
    Column("channel", String(8), nullable=False),
    Column("region", String(64)),
    Column("answered_ever", Integer, nullable=False),
    # SQLite groups by sorting; it reads the tally's groups off this index in order.
    # PostgreSQL hashes instead (and a long free text could exceed its index entry limit).
    Index(
        "ix_central_final_states_values",
        "consultation_id", "question_id", "status", "channel", "value",
    ).ddl_if(dialect="sqlite"),
    # The response rate: a participant's states, found from their pseudonym.
    Index("ix_central_final_states_people", "consultation_id", "pseudonym", "answered_ever"),
)

# Everyone who took part in a consultation, with the channels they used (ever).
participants = Table(
    "central_participants",
    metadata,
    Column("consultation_id", String(64), primary_key=True),
    Column("pseudonym", String(64), primary_key=True),
    Column("by_sms", Integer, nullable=False),
    Column("by_voice", Integer, nullable=False),
)

# Officials who may sign in to the dashboard; passwords hashed (werkzeug.security).
officials = Table(
    "central_officials",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("password_hash", String(256), nullable=False),
    Column("is_admin", Integer, nullable=False, default=0),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Officials' dashboard sessions (gateway/central/store/accounts.py). The session cookie
# carries a random id; only its SHA-256 is kept here. A request is signed in only while
# its row exists, has not expired and its official still has the password it was opened
# with: signing out, removing the official or resetting their password deletes the rows,
# so copies of the cookie stop working too.
official_sessions = Table(
    "central_official_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("username", String(64), nullable=False),
    # SHA-256 of the official's password hash at sign-in: a new password ends the
    # session even when the reset races the sign-in.
    Column("credential", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Index("ix_central_official_sessions_username", "username"),
    Index("ix_central_official_sessions_expires_at", "expires_at"),
)

# Failed dashboard sign-ins, for the brute-force limit (gateway/central/store/accounts.py).
signin_failures = Table(
    "central_signin_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False),
    Column("failed_at", DateTime(timezone=True), nullable=False),
    Index("ix_central_signin_failures_username", "username", "failed_at"),
)

# Failed gateway-token checks on the API, per remote address, for its brute-force limit
# (gateway/central/api.py). Only rows younger than the limit's window are kept.
token_failures = Table(
    "central_token_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("remote", String(64), nullable=False),
    Column("failed_at", DateTime(timezone=True), nullable=False),
    Index("ix_central_token_failures_remote", "remote", "failed_at"),
)

# Exports prepared in the background for the dashboard (gateway/central/store/export_jobs.py);
# the file is in the exports folder, named by the id. Rows older than a day are deleted
# with their files.
export_jobs = Table(
    "central_export_jobs",
    metadata,
    Column("id", String(32), primary_key=True),  # random: the download's address
    Column("consultation_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # responses | open-data
    Column("format", String(8), nullable=False),  # csv | xlsx | json | zip
    Column("requested_by", String(64), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),  # queued | running | done | failed
    Column("rows_done", Integer, nullable=False),
    Column("rows_total", Integer),
    Column("size", BigInteger),  # bytes, once done
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("error", Text),
    Index("ix_central_export_jobs_consultation", "consultation_id", "requested_at"),
)

# Outreach defined by officials (gateway/central/store/outreach.py), published to gateways
# (GET /api/v1/outreach), which resolve its audience to numbers: none is held here. Every
# change gives the row its next `version`. JSON columns hold the published shapes
# (docs/outreach.md).
outreach = Table(
    "central_outreach",
    metadata,
    Column("id", String(16), primary_key=True),  # o- and 12 hex digits
    Column("version", Integer, nullable=False),
    Column("consultation_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # invitation | reminder | results
    Column("status", String(16), nullable=False),  # draft | started | paused | cancelled
    Column("audience", Text, nullable=False),  # JSON {source, participants, list, ...}
    Column("channels", String(16), nullable=False),  # sms | voice | sms,voice
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    Column("hours_from", String(5), nullable=False),  # HH:MM, local to `timezone`
    Column("hours_to", String(5), nullable=False),
    Column("timezone", String(64), nullable=False),  # an IANA name, or a UTC offset
    Column("texts", Text, nullable=False),  # JSON language -> final text
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_central_outreach_consultation", "consultation_id", "created_at"),
)

# The latest progress report of each gateway on each outreach (POST /api/v1/outreach/progress):
# counts only, never a number.
outreach_progress = Table(
    "central_outreach_progress",
    metadata,
    Column("outreach_id", String(16), primary_key=True),
    Column("gateway", String(64), primary_key=True),
    Column("version", Integer, nullable=False),  # of the definition the gateway worked from
    Column("preview", Text),  # JSON, as reported; null when none was
    Column("counts", Text, nullable=False),  # JSON state -> count
    Column("answered", Integer, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)
