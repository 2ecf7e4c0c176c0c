"""The one seam through which the gateway calls out to Twilio's REST API.

Tests replace the placer with a recorder; nothing else in the gateway reaches Twilio.
"""

from __future__ import annotations

from typing import Protocol

from gateway.privacy import redact_numbers
from gateway.settings import Settings


class CallPlacementError(RuntimeError):
    """Twilio refused or could not be reached; the message says why."""


class OutboundNotConfigured(CallPlacementError):
    """Call-backs need Twilio REST credentials and a caller id."""


class CallPlacer(Protocol):
    def place_call(self, *, to: str, from_: str, url: str, status_callback: str) -> str:
        """Start an outbound call that fetches its TwiML from `url`; returns its CallSid."""
        ...


class TwilioCallPlacer:
    def __init__(self, account_sid: str, auth_token: str,
                 api_url: str = "https://api.twilio.com") -> None:
        from twilio.rest import Client

        self.client = Client(account_sid, auth_token)
        self.client.api.base_url = api_url.rstrip("/")

    @classmethod
    def from_settings(cls, settings: Settings) -> TwilioCallPlacer:
        problem = configuration_problem(settings)
        if problem is not None:
            raise OutboundNotConfigured(problem)
        return cls(settings.twilio_account_sid, settings.twilio_auth_token,
                   settings.twilio_api_url)

    def place_call(self, *, to: str, from_: str, url: str, status_callback: str) -> str:
        from twilio.base.exceptions import TwilioException

        try:
            call = self.client.calls.create(
                to=to,
                from_=from_,
                url=url,
                method="POST",
                status_callback=status_callback,
                status_callback_method="POST",
            )
        except TwilioException as exc:  # its message may name the number called: masked
            raise CallPlacementError(redact_numbers(str(exc))) from exc
        except OSError as exc:  # network down: requests' errors are OSErrors
            raise CallPlacementError(f"cannot reach Twilio: {redact_numbers(str(exc))}") \
                from exc
        return str(call.sid)


def configuration_problem(settings: Settings) -> str | None:
    """What call-backs lack in these settings, or None when they can be placed."""
    missing = [
        name
        for name, unset in (
            ("TWILIO_ACCOUNT_SID", not settings.twilio_account_sid),
            # A token generated for this installation signs local trials, not Twilio's API.
            ("TWILIO_AUTH_TOKEN", not settings.twilio_auth_token
             or "TWILIO_AUTH_TOKEN" in settings.generated_secrets),
            ("TWILIO_FROM_NUMBER", not settings.twilio_from_number),
            ("PUBLIC_BASE_URL", not settings.public_base_url),
        )
        if unset
    ]
    if not missing:
        return None
    return (
        "call-backs need " + ", ".join(missing) + " (PUBLIC_BASE_URL: the https "
        "address Twilio reaches this gateway at)"
    )
