"""TwilioCallPlacer against a local stand-in for Twilio's REST API (never the real one)."""

from __future__ import annotations

import pytest

from gateway.channels.twilio_calls import (
    CallPlacementError,
    OutboundNotConfigured,
    TwilioCallPlacer,
)
from gateway.settings import Settings
from tests.twilio_rest import ACCOUNT, FakeTwilio, placer_for


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
