"""A local stand-in for Twilio's REST API on loopback, for tests that place calls through
the real twilio client (never the real API)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from gateway.channels.twilio_calls import TwilioCallPlacer

ACCOUNT = "AC" + "1" * 32


class FakeTwilio(BaseHTTPRequestHandler):
    requests: list[tuple[str, dict[str, list[str]]]] = []
    status = 201
    message = "The 'To' number is not a valid phone number."

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        FakeTwilio.requests.append((self.path, parse_qs(body)))
        if FakeTwilio.status == 201:
            payload = {"sid": "CA" + "f" * 32, "status": "queued", "account_sid": ACCOUNT}
        else:
            payload = {"code": 21211, "message": FakeTwilio.message, "status": FakeTwilio.status}
        data = json.dumps(payload).encode()
        self.send_response(FakeTwilio.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def fake_twilio() -> Iterator[str]:
    FakeTwilio.requests = []
    FakeTwilio.status = 201
    FakeTwilio.message = "The 'To' number is not a valid phone number."
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeTwilio)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)


def placer_for(base_url: str) -> TwilioCallPlacer:
    placer = TwilioCallPlacer(ACCOUNT, "secret-token")
    placer.client.api.base_url = base_url  # the fake, not api.twilio.com
    return placer
