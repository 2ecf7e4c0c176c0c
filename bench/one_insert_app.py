"""The floor for a durable webhook: the baseline's signature check, then one SQLite insert.

    ONE_INSERT_DATABASE=PATH gunicorn "bench.one_insert_app:create_app()"
    (TWILIO_AUTH_TOKEN in the environment)

POST /twilio/sms checks X-Twilio-Signature exactly as bench/baseline_app.py does, then
inserts one row (MessageSid, From, Body, the time received) into a SQLite file in WAL
mode with synchronous=FULL, in its own transaction (BEGIN IMMEDIATE ... COMMIT, so the
row is synced before the answer), and answers with the baseline's constant TwiML reply.
MessageSid is the primary key and the insert is INSERT OR IGNORE, so a retried webhook
adds nothing. GET /healthz answers "ok".

Plain sqlite3, one connection per worker process, opened at its first request. No
consultation, no session, no Redis: what any webhook that writes before answering costs
here, under the same gunicorn settings as the other apps.
"""

from __future__ import annotations

import os
import sqlite3
import time
from datetime import UTC, datetime

from flask import Flask, Response, abort, request

from bench.baseline_app import auth_token, signature_check, sms_twiml

DATABASE_ENV = "ONE_INSERT_DATABASE"
BUSY_TIMEOUT_S = 30.0
# Workers opening a new file at once both switch it to WAL, and SQLite refuses one of
# them at once ("database is locked") instead of waiting: that one tries again.
WAL_SWITCH_TRIES = 50
WAL_SWITCH_PAUSE_S = 0.05

SCHEMA = """CREATE TABLE IF NOT EXISTS messages (
    message_sid TEXT PRIMARY KEY,
    sender TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at TEXT NOT NULL
)"""
INSERT = ("INSERT OR IGNORE INTO messages (message_sid, sender, body, received_at) "
          "VALUES (?, ?, ?, ?)")


def connect(path: str) -> sqlite3.Connection:
    """A connection in WAL mode at synchronous=FULL, with the table in place."""
    # isolation_level=None: the module starts no transaction of its own; BEGIN is ours.
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                           check_same_thread=False)
    for attempt in range(WAL_SWITCH_TRIES):
        try:
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == WAL_SWITCH_TRIES - 1:
                raise
            time.sleep(WAL_SWITCH_PAUSE_S)
    if mode.lower() != "wal":
        raise RuntimeError(f"SQLite refused WAL mode (journal_mode is {mode!r})")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(SCHEMA)
    return conn


def create_app(token: str | None = None, database: str | None = None) -> Flask:
    check_signature = signature_check(auth_token(token))
    path = database if database is not None else os.environ.get(DATABASE_ENV, "")
    if not path:
        raise RuntimeError(f"{DATABASE_ENV} is not set")
    body = sms_twiml()
    opened: dict[int, sqlite3.Connection] = {}  # pid -> this worker's connection

    def connection() -> sqlite3.Connection:
        pid = os.getpid()
        conn = opened.get(pid)
        if conn is None:
            conn = opened[pid] = connect(path)
        return conn

    app = Flask(__name__)

    @app.post("/twilio/sms")
    def incoming_sms() -> Response:
        check_signature()
        form = request.form
        sid = form.get("MessageSid", "")
        if not sid:
            abort(400)
        row = (sid, form.get("From", ""), form.get("Body", ""),
               datetime.now(UTC).isoformat())
        conn = connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(INSERT, row)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return Response(body, status=200, mimetype="text/xml")

    @app.get("/healthz")
    def health() -> Response:
        return Response("ok\n", mimetype="text/plain")

    return app
