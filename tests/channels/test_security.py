"""The SDK's published test vector, and the public-URL rule behind proxies."""

from __future__ import annotations

from flask import Flask, request
from twilio.request_validator import RequestValidator

from gateway.channels.security import is_signed, public_url
from gateway.settings import Settings

VECTOR_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
VECTOR_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}
VECTOR_SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_published_vector() -> None:
    assert RequestValidator("12345").compute_signature(VECTOR_URL, VECTOR_PARAMS) == (
        VECTOR_SIGNATURE
    )


def test_request_checked_against_public_url_with_query() -> None:
    app = Flask(__name__)
    settings = Settings(twilio_auth_token="12345", public_base_url="https://mycompany.com/")
    with app.test_request_context(
        "/myapp.php?foo=1&bar=2",
        method="POST",
        base_url="http://10.0.0.5:8000",
        data=VECTOR_PARAMS,
        headers={"X-Twilio-Signature": VECTOR_SIGNATURE},
    ):
        assert public_url(request, settings.public_base_url) == VECTOR_URL
        assert is_signed(request, settings)
        assert not is_signed(request, Settings(twilio_auth_token="12345"))  # internal URL
        assert not is_signed(request, settings.with_overrides(twilio_auth_token="54321"))
