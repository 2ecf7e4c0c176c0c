"""Every Twilio route requires a valid X-Twilio-Signature."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from urllib.parse import quote, urlparse

from flask import Request, abort, request
from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    compare,
    get_signature_algorithm,
)
from werkzeug.datastructures import MultiDict

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


class SignedFields:
    """A request's form as the SDK's signature code reads it.

    `RequestValidator.get_values` asks for `getall` first and falls back to `getlist`:
    on Werkzeug's form that costs a raised AttributeError per field and signature.
    """

    __slots__ = ("_form",)

    def __init__(self, form: MultiDict[str, str]) -> None:
        self._form = form

    def __iter__(self) -> Iterator[str]:
        return iter(self._form)

    def __len__(self) -> int:
        return len(self._form)

    def getall(self, name: str) -> list[str]:
        return self._form.getlist(name)


def is_signed(req: Request, settings: Settings) -> bool:
    """Whether X-Twilio-Signature is valid for the public URL and the form, by the SDK.

    `RequestValidator.validate` signs the URL both without and with its port (Twilio
    signs one or the other) and compares both. The URL as it stands is one of the two
    (the one without a port if it names none, the one with it if it does) and the one
    genuine requests carry, so it is tried alone first; a request it does not match
    goes through `validate` whole, which accepts the same requests and refuses the same.
    """
    signature = req.headers.get(SIGNATURE_HEADER, "")
    if not signature:
        return False
    algorithm = get_signature_algorithm(req.headers.get(SIGNATURE_SETTINGS_HEADER))
    validator = RequestValidator(settings.twilio_auth_token)
    url = public_url(req, settings.public_base_url)
    fields = SignedFields(req.form)
    try:
        expected = validator.compute_signature(urlparse(url).geturl(), fields, algorithm)
    except ValueError:  # an algorithm this SDK does not know: `validate` logs and refuses
        expected = ""
    if expected and compare(expected, signature):
        return True
    return validator.validate(url, fields, signature, algorithm)


def require_twilio_signature(settings: Settings) -> None:
    """A `before_request` hook for the Twilio blueprints: 403 unless signed."""
    if not settings.signature_checks:
        return
    if not is_signed(request, settings):
        log.warning("refused %s %s: missing or invalid X-Twilio-Signature", request.method,
                    request.path)
        abort(403, description="missing or invalid X-Twilio-Signature")
