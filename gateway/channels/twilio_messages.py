"""Outreach's seam to Twilio's REST API: send an SMS, place a call, and find out whether
Twilio already accepted a request whose answer was lost (a worker killed in between).

Without Twilio credentials (development, the quick start) the SandboxSender stands in:
it accepts everything with a sandbox id (`SB...`), and the outbound rows record what
would have been sent (`civicline outbox`).
"""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta
from typing import Any, Protocol

from twilio.http.http_client import TwilioHttpClient

from gateway.channels.twilio_calls import configuration_problem
from gateway.privacy import redact_numbers
from gateway.settings import Settings

SANDBOX_PREFIX = "SB"
RECONCILE_LOOKBACK = 20  # the most recent requests to a number examined when reconciling
CLOCK_SLACK = timedelta(minutes=2)  # between this machine's clock and Twilio's


class SendError(RuntimeError):
    """Twilio did not accept the request; the message says why (numbers masked)."""


class RetryLater(SendError):
    """429, a 5xx or no answer: the same request may succeed later."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class Refused(SendError):
    """Twilio refused for good (bad number, opted out, ...): `code` is Twilio's."""

    def __init__(self, reason: str, code: int | None) -> None:
        super().__init__(reason)
        self.code = code


class OutboundSender(Protocol):
    def send_sms(self, *, to: str, from_: str, body: str, status_callback: str) -> str:
        """Send `body`; returns the MessageSid."""
        ...

    def place_call(self, *, to: str, from_: str, url: str, status_callback: str,
                   machine_detection: bool) -> str:
        """Start a call that fetches its TwiML from `url`; returns the CallSid."""
        ...

    def accepted_since(self, *, channel: str, to: str, from_: str, since: datetime,
                       body: str | None) -> str | None:
        """The sid of a request to `to` that Twilio accepted since `since` (an SMS with
        this `body`, or any call), or None: whether a lost answer was an acceptance."""
        ...


class SandboxSender:
    """Accepts everything, sends nothing: development without Twilio credentials."""

    def send_sms(self, *, to: str, from_: str, body: str, status_callback: str) -> str:
        return f"{SANDBOX_PREFIX}{uuid.uuid4().hex}"

    def place_call(self, *, to: str, from_: str, url: str, status_callback: str,
                   machine_detection: bool) -> str:
        return f"{SANDBOX_PREFIX}{uuid.uuid4().hex}"

    def accepted_since(self, *, channel: str, to: str, from_: str, since: datetime,
                       body: str | None) -> str | None:
        return None  # the sandbox records its acceptance with the row, in one step


class TwilioSender:
    def __init__(self, account_sid: str, auth_token: str) -> None:
        from twilio.rest import Client

        self.http = _HeadersKeepingClient()
        self.client = Client(account_sid, auth_token, http_client=self.http)

    def send_sms(self, *, to: str, from_: str, body: str, status_callback: str) -> str:
        message = self._call(lambda: self.client.messages.create(
            to=to, from_=from_, body=body, status_callback=status_callback))
        return str(message.sid)

    def place_call(self, *, to: str, from_: str, url: str, status_callback: str,
                   machine_detection: bool) -> str:
        options: dict[str, Any] = {}
        if machine_detection:
            options["machine_detection"] = "Enable"
        call = self._call(lambda: self.client.calls.create(
            to=to, from_=from_, url=url, method="POST", status_callback=status_callback,
            status_callback_method="POST", **options))
        return str(call.sid)

    def accepted_since(self, *, channel: str, to: str, from_: str, since: datetime,
                       body: str | None) -> str | None:
        after = since - CLOCK_SLACK
        if channel == "sms":
            found = self._call(lambda: self.client.messages.list(
                to=to, from_=from_, limit=RECONCILE_LOOKBACK))
            for message in found:
                if message.body == body and (message.date_created is None
                                             or message.date_created >= after):
                    return str(message.sid)
            return None
        calls = self._call(lambda: self.client.calls.list(
            to=to, from_=from_, limit=RECONCILE_LOOKBACK))
        for call in calls:
            if call.date_created is None or call.date_created >= after:
                return str(call.sid)
        return None

    def _call(self, request: Any) -> Any:
        from twilio.base.exceptions import TwilioException, TwilioRestException

        try:
            return request()
        except TwilioRestException as exc:
            reason = redact_numbers(f"Twilio error {exc.code}: {exc.msg}")
            if exc.status == 429 or exc.status >= 500:
                raise RetryLater(reason, self.http.retry_after()) from exc
            raise Refused(reason, exc.code if isinstance(exc.code, int) else None) from exc
        except TwilioException as exc:
            raise Refused(redact_numbers(str(exc)), None) from exc
        except OSError as exc:  # network down: requests' errors are OSErrors
            raise RetryLater(f"cannot reach Twilio: {redact_numbers(str(exc))}") from exc


class _HeadersKeepingClient(TwilioHttpClient):
    """Twilio's HTTP client, keeping each thread's last Retry-After (its exceptions drop
    the response's headers)."""

    def __init__(self) -> None:
        super().__init__()
        self.local = threading.local()

    def request(self, *args: Any, **kwargs: Any) -> Any:
        response = super().request(*args, **kwargs)
        self.local.retry_after = (response.headers or {}).get("Retry-After")
        return response

    def retry_after(self) -> float | None:
        value = getattr(self.local, "retry_after", None)
        try:
            return max(float(value), 0.0) if value is not None else None
        except ValueError:
            return None


def sender_for(settings: Settings) -> OutboundSender:
    """Twilio's sender when configured; the sandbox otherwise, outside production."""
    problem = configuration_problem(settings)
    if problem is None:
        return TwilioSender(settings.twilio_account_sid, settings.twilio_auth_token)
    if settings.production:
        raise SendError(f"outreach cannot be sent: {problem.replace('call-backs', 'it')}")
    return SandboxSender()
