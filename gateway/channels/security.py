"""Every Twilio route requires a valid X-Twilio-Signature."""

from __future__ import annotations

import logging
from urllib.parse import quote

from flask import Request, abort, request
from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)

from gateway.settings import Settings

log = logging.getLogger(__name__)


def public_url(req: Request, public_base_url: str) -> str:
    """The URL Twilio called: behind a TLS-terminating proxy, not the one Flask sees.

    The query string is the raw one: Twilio signs it as sent (`%3A` stays `%3A`), while
    `request.url` would decode percent-escapes and refuse a genuine request.
    """
    query = req.query_string.decode("latin-1")
    suffix = quote(req.path, safe="/!$&'()*+,:;=@") + (f"?{query}" if query else "")
    if not public_base_url:
        return req.root_url.rstrip("/") + suffix
    return public_base_url.rstrip("/") + suffix


def is_signed(req: Request, settings: Settings) -> bool:
    signature = req.headers.get(SIGNATURE_HEADER, "")
    if not signature:
        return False
    algorithm = get_signature_algorithm(req.headers.get(SIGNATURE_SETTINGS_HEADER))
    validator = RequestValidator(settings.twilio_auth_token)
    return validator.validate(
        public_url(req, settings.public_base_url), req.form, signature, algorithm
    )


def require_twilio_signature(settings: Settings) -> None:
    """A `before_request` hook for the Twilio blueprints: 403 unless signed."""
    if not settings.signature_checks:
        return
    if not is_signed(request, settings):
        log.warning("refused %s %s: missing or invalid X-Twilio-Signature", request.method,
                    request.path)
        abort(403, description="missing or invalid X-Twilio-Signature")
