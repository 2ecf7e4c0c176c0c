"""Voice webhooks as Twilio posts them: the form fields of a call and the signed request.

Every request is signed as Twilio signs it (RequestValidator.compute_signature over the full
URL, query included, and every form field).
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from twilio.request_validator import RequestValidator

from bench import _traffic

VOICE_PATH = "/twilio/voice"
STEP_PATH = "/twilio/voice/step"
ACCOUNT_SID = _traffic.ACCOUNT_SID


def call_params(sid: str, caller: str, called: str) -> dict[str, str]:
    """The form fields of Twilio's voice webhook for an inbound call."""
    return {
        "AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", "CallSid": sid,
        "CallStatus": "in-progress", "Called": called, "CalledCountry": "KE",
        "Caller": caller, "CallerCountry": "KE", "Direction": "inbound", "From": caller,
        "FromCountry": "KE", "To": called, "ToCountry": "KE",
    }


class Signer:
    """Raw HTTP/1.1 requests signed for one server (its full URL, as Twilio calls it)."""

    def __init__(self, host: str, token: str) -> None:
        self.host = host
        self.base = f"http://{host}"
        self.validator = RequestValidator(token)

    def request(self, url: str, params: dict[str, str]) -> bytes:
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        signature = self.validator.compute_signature(self.base + target, params)
        body = urlencode(params).encode("ascii")
        head = (
            f"POST {target} HTTP/1.1\r\n"
            f"Host: {self.host}\r\n"
            "User-Agent: TwilioProxy/1.1\r\n"
            "Accept: */*\r\n"
            "Content-Type: application/x-www-form-urlencoded; charset=utf-8\r\n"
            f"X-Twilio-Signature: {signature}\r\n"
            f"I-Twilio-Idempotency-Token: {params['CallSid']}-{len(body)}\r\n"
            f"Content-Length: {len(body)}\r\n"
            "\r\n"
        )
        return head.encode("ascii") + body
