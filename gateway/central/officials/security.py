"""Session cookie flags, CSRF tokens and response headers for the officials' pages."""

from __future__ import annotations

import secrets

from flask import Flask, Request, Response, has_request_context, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from werkzeug.exceptions import BadRequest

from gateway.central.store.accounts import SESSION_LIFETIME

OFFICIALS_PREFIX = "/officials"  # the dashboard's routes (gateway/central/officials/web.py)
CSRF_KEY = "officials.csrf"
CSRF_FIELD = "csrf_token"

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


class RequestAwareSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, for the dashboard only, with the Secure flag
    whenever the request came over HTTPS, not only when SESSION_COOKIE_SECURE (set in
    production) says so.

    The cookie holds the CSRF token and, once signed in, a session id: who is signed in
    is decided by that id's record in the central store (gateway/central/store/accounts.py),
    so that ending the session there ends it for every copy of the cookie.

    Every other route (webhooks, the API) gets Flask's null session: opening a signed
    session costs each webhook more than a database statement, for nothing.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:  # type: ignore[override]
        if not request.path.startswith(OFFICIALS_PREFIX):
            return self.make_null_session(app)
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:  # type: ignore[override]
        configured = super().get_cookie_secure(app)
        return configured or (has_request_context() and request.is_secure)


def configure_sessions(app: Flask, *, secret_key: str, production: bool) -> None:
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret_key
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = production or app.config.get(
        "SESSION_COOKIE_SECURE", False
    )
    app.config["PERMANENT_SESSION_LIFETIME"] = SESSION_LIFETIME
    app.session_interface = RequestAwareSessionInterface()


def csrf_token() -> str:
    """This session's token, made on first use; every form carries it."""
    token = session.get(CSRF_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_KEY] = token
    return token


def check_csrf() -> None:
    expected = session.get(CSRF_KEY)
    sent = request.form.get(CSRF_FIELD, "")
    if not expected or not sent or not secrets.compare_digest(str(expected), sent):
        raise BadRequest(
            "The form's security token is missing or out of date (it is tied to your "
            "session and its cookie). Go back, reload the page and try again."
        )


def secure_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    # Results and exports are not for shared caches or the back button of a shared PC.
    response.headers.setdefault("Cache-Control", "no-store")
    return response
