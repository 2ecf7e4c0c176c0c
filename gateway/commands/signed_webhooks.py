"""Webhooks to a running gateway, signed exactly as Twilio signs them: what
`civicline simulate sms` and `simulate call` send."""

from __future__ import annotations

import click
import requests
from twilio.request_validator import RequestValidator

from gateway.settings import Settings


def signed_post(settings: Settings, base_url: str, path: str, params: dict[str, str]) -> str:
    """POST a form to the gateway signed exactly as Twilio signs it; returns the body."""
    return signed_response(settings, base_url, path, params).text


def signed_response(
    settings: Settings, base_url: str, path: str, params: dict[str, str]
) -> requests.Response:
    """POST a form to the gateway signed exactly as Twilio signs it; the whole answer."""
    url = base_url.rstrip("/") + path
    signed_url = (settings.public_base_url.rstrip("/") + path) if settings.public_base_url else url
    signature = RequestValidator(settings.twilio_auth_token).compute_signature(signed_url, params)
    try:
        response = requests.post(
            url, data=params, headers={"X-Twilio-Signature": signature}, timeout=15
        )
    except requests.ConnectionError as exc:
        raise click.ClickException(
            f"cannot reach the gateway at {base_url}: is `civicline serve` running?"
        ) from exc
    if response.status_code >= 400:
        raise click.ClickException(f"gateway answered {response.status_code}: {response.text}")
    return response
