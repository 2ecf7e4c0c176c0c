"""The SDK's published test vector, and the public-URL rule behind proxies."""

from __future__ import annotations

import pytest
from flask import Flask, request
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from gateway.channels.signatures import is_signed, public_url
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


SIGNED_URL = "https://gw.example.org/twilio/sms?n=1"
WITH_PORT = "https://gw.example.org:443/twilio/sms?n=1"
FORM = [("From", "+254712345678"), ("Body", "ndiyo"), ("MediaUrl0", "b"), ("MediaUrl0", "a")]


def _signature(url: str, algorithm: str = "HMAC_SHA1") -> str:
    return RequestValidator("12345").compute_signature(url, MultiDict(FORM), algorithm)


@pytest.mark.parametrize(
    ("signature", "algorithm", "expected"),
    [
        (_signature(SIGNED_URL), None, True),
        (_signature(WITH_PORT), None, True),  # Twilio signed the URL with its port
        (_signature(SIGNED_URL, "HMAC_SHA256"), "HMAC_SHA256", True),
        (_signature(SIGNED_URL, "HMAC_SHA256"), None, False),  # header names no algorithm
        (_signature(SIGNED_URL), "HMAC_MD5", False),  # an algorithm the SDK does not know
        (_signature("https://gw.example.org/twilio/sms?n=2"), None, False),
        (_signature(SIGNED_URL)[:-2] + "A=", None, False),
        ("", None, False),
    ],
)
@pytest.mark.parametrize("base", ["https://gw.example.org", "https://gw.example.org:443"])
def test_accepts_exactly_what_the_sdk_validates(
    signature: str, algorithm: str | None, expected: bool, base: str
) -> None:
    """With or without the port in PUBLIC_BASE_URL, the same requests pass as through
    the SDK's `validate`."""
    headers = {"X-Twilio-Signature": signature}
    if algorithm:
        headers["X-Twilio-Webhooks-Signature-Settings"] = f"key=k1,algorithm={algorithm}"
    settings = Settings(twilio_auth_token="12345", public_base_url=base)
    with Flask(__name__).test_request_context(
        "/twilio/sms?n=1", method="POST", data=MultiDict(FORM), headers=headers
    ):
        sdk = bool(signature) and RequestValidator("12345").validate(
            f"{base}/twilio/sms?n=1", request.form, signature, algorithm or "HMAC_SHA1"
        )
        assert is_signed(request, settings) is sdk is expected
