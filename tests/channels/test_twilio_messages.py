"""The outbound seam against a local stand-in for Twilio's REST API, through the real
twilio client: acceptances, refusals by kind, Retry-After, and finding a lost acceptance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.channels.twilio_messages import (
    Refused,
    RetryLater,
    SandboxSender,
    TwilioSender,
    sender_for,
)
from gateway.settings import Settings
from tests.twilio_outbound import Scripted, TwilioOutbound

TO = "+254711000111"
FROM = "+254700000001"


def test_an_accepted_sms_returns_twilios_sid_and_carries_the_callback(
    twilio_outbound: TwilioOutbound,
) -> None:
    sid = twilio_outbound.sender().send_sms(to=TO, from_=FROM, body="Hello. Reply STOP",
                                            status_callback="https://gw/x?m=7")
    [message] = twilio_outbound.messages
    assert sid == message["sid"] and sid.startswith("SM")
    assert message["status_callback"] == "https://gw/x?m=7"
    assert message["body"] == "Hello. Reply STOP"


def test_429_is_retry_later_with_the_retry_after_given(
    twilio_outbound: TwilioOutbound,
) -> None:
    twilio_outbound.script.append(Scripted(429, 20429, retry_after="17"))
    with pytest.raises(RetryLater) as raised:
        twilio_outbound.sender().send_sms(to=TO, from_=FROM, body="x", status_callback="u")
    assert raised.value.retry_after == 17.0


def test_a_server_error_is_retry_later_without_a_retry_after(
    twilio_outbound: TwilioOutbound,
) -> None:
    twilio_outbound.script.append(Scripted(500))
    with pytest.raises(RetryLater) as raised:
        twilio_outbound.sender().send_sms(to=TO, from_=FROM, body="x", status_callback="u")
    assert raised.value.retry_after is None


def test_an_invalid_number_is_refused_with_its_code_and_no_number_in_the_reason(
    twilio_outbound: TwilioOutbound,
) -> None:
    twilio_outbound.script.append(Scripted(400, 21211, message=f"The 'To' number {TO} is "
                                                               "not a valid phone number."))
    with pytest.raises(Refused) as raised:
        twilio_outbound.sender().send_sms(to=TO, from_=FROM, body="x", status_callback="u")
    assert raised.value.code == 21211
    assert TO not in str(raised.value) and "21211" in str(raised.value)


def test_an_unreachable_twilio_is_retry_later() -> None:
    sender = TwilioSender("AC" + "3" * 32, "token")
    sender.client.api.base_url = "http://127.0.0.1:9"  # nothing listens there
    with pytest.raises(RetryLater):
        sender.send_sms(to=TO, from_=FROM, body="x", status_callback="u")


def test_accepted_since_finds_the_message_by_number_body_and_time(
    twilio_outbound: TwilioOutbound,
) -> None:
    sender = twilio_outbound.sender()
    before = datetime.now(UTC)
    sid = sender.send_sms(to=TO, from_=FROM, body="the invitation", status_callback="u")
    sender.send_sms(to="+254711000222", from_=FROM, body="the invitation", status_callback="u")
    assert sender.accepted_since(channel="sms", to=TO, from_=FROM, since=before,
                                 body="the invitation") == sid
    assert sender.accepted_since(channel="sms", to=TO, from_=FROM, since=before,
                                 body="another text") is None
    assert sender.accepted_since(channel="sms", to=TO, from_=FROM,
                                 since=before + timedelta(hours=1), body="the invitation") \
        is None


def test_calls_are_placed_with_detection_as_set_and_found_again(
    twilio_outbound: TwilioOutbound,
) -> None:
    sender = twilio_outbound.sender()
    before = datetime.now(UTC)
    sid = sender.place_call(to=TO, from_=FROM, url="https://gw/twilio/voice?c=w&o=3",
                            status_callback="https://gw/twilio/status/call?o=3",
                            machine_detection=True)
    [call] = twilio_outbound.calls
    assert call["sid"] == sid and call["machine_detection"] == "Enable"
    assert call["url"] == "https://gw/twilio/voice?c=w&o=3"
    assert sender.accepted_since(channel="voice", to=TO, from_=FROM, since=before,
                                 body=None) == sid


def test_without_credentials_the_sandbox_sends_outside_production(tmp_path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'g.db'}",
                        central_database_url=f"sqlite:///{tmp_path / 'c.db'}")
    sender = sender_for(settings)
    assert isinstance(sender, SandboxSender)
    assert sender.send_sms(to=TO, from_="", body="x", status_callback="u").startswith("SB")
    configured = settings.with_overrides(
        twilio_account_sid="AC" + "4" * 32, twilio_from_number=FROM,
        public_base_url="https://gw.example.org")
    assert isinstance(sender_for(configured), TwilioSender)
