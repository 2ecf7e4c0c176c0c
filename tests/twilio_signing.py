"""Requests signed exactly as Twilio signs them, for Flask's test client."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

_sids = itertools.count(1)
ACCOUNT_SID = "AC" + "0" * 32


def new_sid(prefix: str = "SM") -> str:
    """A new id shaped as Twilio's are: two letters (SM, MM, CA, RE, AC) and 32 hex digits."""
    return f"{prefix}{next(_sids):032x}"


def recording_url(recording_sid: str | None = None, account_sid: str = ACCOUNT_SID) -> str:
    """A RecordingUrl as Twilio sends it: the REST resource of the recording."""
    recording_sid = recording_sid or new_sid("RE")
    return f"https://api.twilio.com/2010-04-01/Accounts/{account_sid}/Recordings/{recording_sid}"


Params = Mapping[str, str | Sequence[str]]


@dataclass
class SmsResult:
    response: TestResponse
    replies: list[str]

    @property
    def reply(self) -> str:
        assert len(self.replies) == 1, f"expected one reply, got {self.replies}"
        return self.replies[0]


class TwilioClient:
    def __init__(self, client: FlaskClient, token: str, base_url: str = "http://localhost"):
        self.client = client
        self.validator = RequestValidator(token)
        self.base_url = base_url

    def signature(self, path: str, params: Params) -> str:
        return self.validator.compute_signature(self.base_url + path, _multidict(params))

    def post(
        self,
        path: str,
        params: Params,
        *,
        signature: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> TestResponse:
        signature = self.signature(path, params) if signature is None else signature
        all_headers = {"X-Twilio-Signature": signature, **(headers or {})}
        return self.client.post(path, data=dict(params), headers=all_headers,
                                base_url=self.base_url)

    def sms(
        self, sender: str, body: str, *, sid: str | None = None, to: str = "+254700000001"
    ) -> SmsResult:
        sid = sid or new_sid()
        params = {  # as Twilio sends them: the id three times, under its three names
            "MessageSid": sid,
            "SmsSid": sid,
            "SmsMessageSid": sid,
            "AccountSid": ACCOUNT_SID,
            "ApiVersion": "2010-04-01",
            "From": sender,
            "To": to,
            "Body": body,
            "NumSegments": "1",
            "NumMedia": "0",
        }
        response = self.post("/twilio/sms", params)
        assert response.status_code == 200, response.get_data(as_text=True)
        return SmsResult(response, message_texts(response.get_data(as_text=True)))


def message_texts(twiml: str) -> list[str]:
    root = ET.fromstring(twiml)
    assert root.tag == "Response"
    return [m.text or "" for m in root.iter("Message")]


class _MultiParams(dict):
    """What the SDK's validator reads: every value of a repeated field."""

    def getall(self, name: str) -> list[str]:
        value = self[name]
        return list(value) if isinstance(value, (list, tuple)) else [value]


def _multidict(params: Params) -> _MultiParams:
    return _MultiParams(params)
