"""A stand-in for Twilio's REST API (messages and calls: create and list) on loopback, run
as a process of its own so that it shares no GIL with the load generator.

    python -m bench._twilio_standin --port P --token T --events FILE [--hold 2]

Every accepted request is written to FILE as one line, with the stand-in's clock
(time.time()) when it took it:

    M <t> <to>        a message accepted
    C <t> <to>        a call accepted
    A <t> <status>    the call answered: its Url fetched (signed POST), HTTP status
    E <t> <to>        the call ended: its StatusCallback about to be posted
    D <t> <status>    the gateway answered that StatusCallback: HTTP status

Each call is "answered" a moment after it is accepted (its TwiML fetched from its Url, as
Twilio does), held for --hold seconds on average (uniform between half and one and a
half times it), then ended: `CallStatus=completed` posted to its StatusCallback, signed
with RequestValidator and --token exactly as Twilio signs it. Calls accepted and not yet
ended ("C" minus "E") are the calls in progress as Twilio counts them; accepted and not
yet answered ("C" minus "D") also counts the time the gateway takes to record the end.
"""

from __future__ import annotations

import argparse
import json
import random
import sched
import threading
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs, urlsplit

import requests
from twilio.request_validator import RequestValidator

ANSWER_DELAY = 0.2  # seconds from acceptance to the TwiML fetch


class Events:
    """The event file, one line per event, flushed as written."""

    def __init__(self, path: Path) -> None:
        self._out: IO[str] = open(path, "a", encoding="ascii", buffering=1)  # noqa: SIM115
        self._lock = threading.Lock()

    def write(self, kind: str, value: object) -> None:
        with self._lock:
            self._out.write(f"{kind} {time.time():.6f} {value}\n")


class Calls:
    """Answers and completes the accepted calls on a timer thread of its own."""

    def __init__(self, events: Events, token: str, hold: float, seed: int) -> None:
        self.events = events
        self.validator = RequestValidator(token)
        self.hold = hold
        self.rng = random.Random(seed)
        self.pool = ThreadPoolExecutor(max_workers=32)  # posts never wait on each other
        self.pending: list[tuple[float, int, dict[str, str]]] = []
        self._timer = sched.scheduler(time.monotonic, time.sleep)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        threading.Thread(target=self._loop, daemon=True).start()

    def accepted(self, record: dict[str, Any]) -> None:
        with self._lock:
            hold = self.hold * (0.5 + self.rng.random())
            now = time.monotonic()
            self._timer.enterabs(now + ANSWER_DELAY, 1, self.pool.submit,
                                 (self._answer, record))
            self._timer.enterabs(now + ANSWER_DELAY + hold, 2, self.pool.submit,
                                 (self._complete, record, hold))
        self._wake.set()

    def _loop(self) -> None:
        while True:
            self._wake.wait(0.05)
            self._wake.clear()
            self._timer.run(blocking=False)

    def _post(self, url: str, form: dict[str, str]) -> int:
        signature = self.validator.compute_signature(url, form)
        try:
            answer = requests.post(url, data=form, timeout=15,
                                       headers={"X-Twilio-Signature": signature})
        except requests.RequestException:
            return 0
        return answer.status_code

    def _form(self, record: dict[str, Any], status: str) -> dict[str, str]:
        return {"AccountSid": record["account_sid"], "ApiVersion": "2010-04-01",
                "CallSid": record["sid"], "CallStatus": status, "Direction": "outbound-api",
                "From": record["from"] or "", "To": record["to"] or "", "Called": record["to"]
                or "", "Caller": record["from"] or ""}

    def _answer(self, record: dict[str, Any]) -> None:
        if record.get("url"):
            self.events.write("A", self._post(record["url"], self._form(record, "in-progress")))

    def _complete(self, record: dict[str, Any], hold: float) -> None:
        form = {**self._form(record, "completed"), "CallDuration": str(round(hold)),
                "Duration": str(max(1, round(hold / 60)))}
        self.events.write("E", record["to"])
        status = self._post(record["status_callback"], form) if record.get(
            "status_callback") else 0
        self.events.write("D", status)


def _handler(events: Events, calls: Calls, records: dict[str, list[dict[str, Any]]],
             lock: threading.Lock) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # kept alive, as the twilio client's session does
        disable_nagle_algorithm = True  # head and body are two writes: no delayed-ACK stall

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            is_call = self.path.endswith("/Calls.json")
            record = {
                "sid": ("CA" if is_call else "SM") + uuid.uuid4().hex,
                "account_sid": self.path.split("/Accounts/")[-1].split("/")[0],
                "to": form.get("To"), "from": form.get("From"), "body": form.get("Body"),
                "status": "queued", "date_created": format_datetime(datetime.now(UTC),
                                                                    usegmt=True),
                "status_callback": form.get("StatusCallback"), "url": form.get("Url"),
            }
            with lock:
                records["calls" if is_call else "messages"].append(record)
            events.write("C" if is_call else "M", record["to"])
            if is_call:
                calls.accepted(record)
            self._json(201, record)

        def do_GET(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            key = "calls" if parts.path.endswith("/Calls.json") else "messages"
            with lock:
                found = [r for r in records[key] if r["to"] == query.get("To", r["to"])
                         and r["from"] == query.get("From", r["from"])]
            self._json(200, {key: list(reversed(found)), "next_page_uri": None, "page": 0,
                             "page_size": 50, "uri": parts.path, "start": 0,
                             "end": len(found)})

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            return None

    return Handler


def serve(port: int, token: str, events_path: Path, hold: float, seed: int) -> None:
    events = Events(events_path)
    calls = Calls(events, token, hold, seed)
    records: dict[str, list[dict[str, Any]]] = {"messages": [], "calls": []}
    handler = _handler(events, calls, records, threading.Lock())
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    server.serve_forever()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench._twilio_standin",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True, help="the gateway's TWILIO_AUTH_TOKEN")
    parser.add_argument("--events", type=Path, required=True)
    parser.add_argument("--hold", type=float, default=2.0, help="mean call length, seconds")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    serve(args.port, args.token, args.events, args.hold, args.seed)


if __name__ == "__main__":
    main()

