"""TwilioCallPlacer against a local fake of Twilio's REST API (never the real one)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from gateway.outbound import CallPlacementError, OutboundNotConfigured, TwilioCallPlacer
from gateway.settings import Settings

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


def test_places_a_call_with_the_voice_and_status_urls(fake_twilio: str) -> None:
    sid = placer_for(fake_twilio).place_call(
        to="+254712345678", from_="+254700000009",
        url="https://ivr.example.org/twilio/voice?c=water&cb=1",
        status_callback="https://ivr.example.org/twilio/status",
    )
    assert sid == "CA" + "f" * 32
    [(path, form)] = FakeTwilio.requests
    assert path == f"/2010-04-01/Accounts/{ACCOUNT}/Calls.json"
    assert form["To"] == ["+254712345678"]
    assert form["From"] == ["+254700000009"]
    assert form["Url"] == ["https://ivr.example.org/twilio/voice?c=water&cb=1"]
    assert form["Method"] == ["POST"]
    assert form["StatusCallback"] == ["https://ivr.example.org/twilio/status"]


def test_a_refusal_is_a_call_placement_error(fake_twilio: str) -> None:
    FakeTwilio.status = 400
    with pytest.raises(CallPlacementError, match="not a valid phone number"):
        placer_for(fake_twilio).place_call(to="+2547", from_="+254700000009",
                                           url="https://x/twilio/voice",
                                           status_callback="https://x/twilio/status")


def test_a_refusal_naming_the_number_is_masked(fake_twilio: str) -> None:
    FakeTwilio.status = 400
    FakeTwilio.message = "The 'To' number +254712345678 is not a valid phone number."
    with pytest.raises(CallPlacementError) as refused:
        placer_for(fake_twilio).place_call(to="+254712345678", from_="+254700000009",
                                           url="https://x/twilio/voice",
                                           status_callback="https://x/twilio/status")
    assert "The 'To' number +*********678 is not a valid" in str(refused.value)
    assert "254712345678" not in str(refused.value)


def test_an_unreachable_api_is_a_call_placement_error() -> None:
    with pytest.raises(CallPlacementError, match="cannot reach Twilio"):
        placer_for("http://127.0.0.1:1").place_call(
            to="+254712345678", from_="+254700000009", url="https://x/twilio/voice",
            status_callback="https://x/twilio/status")


def test_credentials_are_required() -> None:
    configured = Settings(twilio_auth_token="real-token-0123456789", twilio_account_sid=ACCOUNT,
                          twilio_from_number="+254700000009",
                          public_base_url="https://ivr.example.org")
    assert TwilioCallPlacer.from_settings(configured).client.username == ACCOUNT
    with pytest.raises(OutboundNotConfigured, match="need TWILIO_AUTH_TOKEN "):
        TwilioCallPlacer.from_settings(configured.with_overrides(twilio_auth_token=""))
    # A token generated for this installation (TWILIO_AUTH_TOKEN unset) is no Twilio token.
    generated = configured.with_overrides(generated_secrets=frozenset({"TWILIO_AUTH_TOKEN"}))
    with pytest.raises(OutboundNotConfigured, match="need TWILIO_AUTH_TOKEN "):
        TwilioCallPlacer.from_settings(generated)
    with pytest.raises(OutboundNotConfigured, match="need TWILIO_ACCOUNT_SID, TWILIO_FROM"):
        TwilioCallPlacer.from_settings(
            configured.with_overrides(twilio_account_sid="", twilio_from_number=""))
