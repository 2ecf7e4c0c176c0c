"""A phone call driven through signed voice webhooks, reading the TwiML as Twilio would."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from werkzeug.test import TestResponse

from tests.twilio_signing import ACCOUNT_SID, TwilioClient, new_sid

KE = "+254712345678"
LINE = "+254700000001"  # the fixture consultation's voice number
RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC00000000000000000000000000000000/" \
    "Recordings/RE0123456789abcdef0123456789abcdef"


@dataclass
class Twiml:
    """One TwiML answer, parsed."""

    response: TestResponse
    root: ET.Element = field(init=False)

    def __post_init__(self) -> None:
        assert self.response.status_code == 200, self.response.get_data(as_text=True)
        assert self.response.mimetype == "text/xml"
        self.root = ET.fromstring(self.response.get_data(as_text=True))
        assert self.root.tag == "Response"

    @property
    def xml(self) -> str:
        return self.response.get_data(as_text=True)

    @property
    def verbs(self) -> list[str]:
        return [verb.tag for verb in self.root]

    @property
    def said(self) -> list[str]:
        """Every <Say> text in document order, nested ones included."""
        return ["".join(say.itertext()) for say in self.root.iter("Say")]

    @property
    def text(self) -> str:
        return " ".join(self.said)

    @property
    def prompt(self) -> list[str]:
        """What the Gather reads (the interruptible part)."""
        gather = self.gather
        return ["".join(say.itertext()) for say in gather.iter("Say")] if gather is not None else []

    @property
    def gather(self) -> ET.Element | None:
        return self.root.find("Gather")

    @property
    def record(self) -> ET.Element | None:
        return self.root.find("Record")

    @property
    def redirect(self) -> str:
        redirect = self.root.findall("Redirect")
        assert redirect, self.xml
        return redirect[-1].text or ""

    @property
    def plays(self) -> list[str]:
        return [(play.text or "") for play in self.root.iter("Play")]

    @property
    def hangs_up(self) -> bool:
        return self.verbs[-1:] == ["Hangup"]


class Call:
    """One call: start() it, then press(), stay_silent(), record(), hang_up()."""

    def __init__(self, client: TwilioClient, caller: str = KE, called: str = LINE, *,
                 sid: str | None = None, outbound: bool = False, path: str = "/twilio/voice"):
        self.client = client
        self.sid = sid or new_sid("CA")
        self.caller = caller
        self.called = called
        self.outbound = outbound
        self.path = path
        self.last: Twiml | None = None

    def params(self, **extra: str) -> dict[str, str]:
        ours = "+254700000009"
        params = {
            "CallSid": self.sid,
            "AccountSid": ACCOUNT_SID,
            "From": ours if self.outbound else self.caller,
            "To": self.caller if self.outbound else self.called,
            "Called": self.caller if self.outbound else self.called,
            "Caller": ours if self.outbound else self.caller,
            "Direction": "outbound-api" if self.outbound else "inbound",
            "CallStatus": "in-progress",
            "ApiVersion": "2010-04-01",
        }
        params.update(extra)
        return params

    def post(self, url: str, **extra: str) -> Twiml:
        """POST to an action URL as Twilio would (absolute URLs go to the client's host)."""
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        self.last = Twiml(self.client.post(path, self.params(**extra)))
        return self.last

    def start(self) -> Twiml:
        return self.post(self.path, CallStatus="ringing")

    def press(self, key: str) -> Twiml:
        assert self.last is not None and self.last.gather is not None, "no Gather to answer"
        return self.post(self.last.gather.get("action", ""), Digits=key)

    def stay_silent(self) -> Twiml:
        """No key before the Gather's timeout: Twilio follows the Redirect after it."""
        assert self.last is not None
        return self.post(self.last.redirect)

    def record(self, url: str, seconds: int, finish: str = "#") -> Twiml:
        assert self.last is not None and self.last.record is not None, "no Record here"
        return self.post(self.last.record.get("action", ""), RecordingUrl=url,
                         RecordingDuration=str(seconds), RecordingSid=url.rsplit("/", 1)[-1],
                         Digits=finish)

    def hang_up(self, status: str = "completed") -> TestResponse:
        response = self.client.post("/twilio/status", self.params(CallStatus=status,
                                                                  CallDuration="42"))
        assert response.status_code == 204, response.get_data(as_text=True)
        return response
