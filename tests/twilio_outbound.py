"""A local stand-in for Twilio's REST API for outbound messages and calls, on loopback,
driven through the real twilio client: it keeps what it accepted (and lists it, as
Twilio does), and answers scripted refusals (429 with Retry-After, 500, error codes)."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from gateway.channels.twilio_messages import TwilioSender

ACCOUNT = "AC" + "2" * 32


@dataclass
class Scripted:
    status: int
    code: int | None = None
    retry_after: str | None = None
    message: str = "scripted refusal"


@dataclass
class TwilioOutbound:
    url: str = ""
    messages: list[dict[str, Any]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    posts: int = 0
    script: list[Scripted] = field(default_factory=list)  # answers to the next POSTs
    refuse: dict[str, int] = field(default_factory=dict)  # To number -> Twilio error code
    lock: threading.Lock = field(default_factory=threading.Lock)

    def sender(self) -> TwilioSender:
        sender = TwilioSender(ACCOUNT, "secret-token")
        sender.client.api.base_url = self.url  # the stand-in, not api.twilio.com
        return sender

    def bodies_to(self, number: str) -> list[str]:
        return [m["body"] for m in self.messages if m["to"] == number]


def _handler(state: TwilioOutbound) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers["Content-Length"])
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            with state.lock:
                state.posts += 1
                scripted = state.script.pop(0) if state.script else None
                if scripted is None and form.get("To") in state.refuse:
                    scripted = Scripted(400, state.refuse[form["To"]])
                if scripted is not None:
                    return self._refuse(scripted)
                record = self._accept(form)
            self._json(201, record)

        def _accept(self, form: dict[str, str]) -> dict[str, Any]:
            calls = self.path.endswith("/Calls.json")
            record = {
                "sid": ("CA" if calls else "SM") + uuid.uuid4().hex,
                "account_sid": ACCOUNT, "to": form.get("To"), "from": form.get("From"),
                "body": form.get("Body"), "status": "queued",
                "date_created": format_datetime(datetime.now(UTC), usegmt=True),
                "status_callback": form.get("StatusCallback"), "url": form.get("Url"),
                "machine_detection": form.get("MachineDetection"),
            }
            (state.calls if calls else state.messages).append(record)
            return record

        def do_GET(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            calls = parts.path.endswith("/Calls.json")
            with state.lock:
                found = [r for r in (state.calls if calls else state.messages)
                         if r["to"] == query.get("To", r["to"])
                         and r["from"] == query.get("From", r["from"])]
            key = "calls" if calls else "messages"
            self._json(200, {key: list(reversed(found)), "next_page_uri": None,
                             "page": 0, "page_size": 50, "uri": parts.path, "start": 0,
                             "end": len(found)})

        def _refuse(self, scripted: Scripted) -> None:
            payload = {"code": scripted.code or scripted.status, "message": scripted.message,
                       "status": scripted.status, "more_info": "https://example.invalid"}
            headers = {"Retry-After": scripted.retry_after} if scripted.retry_after else {}
            self._json(scripted.status, payload, headers)

        def _json(self, status: int, payload: dict[str, Any],
                  headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            return None

    return Handler


@pytest.fixture
def twilio_outbound() -> Iterator[TwilioOutbound]:
    state = TwilioOutbound()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()
    thread.join(5)
