"""The dashboard's forms and cookies: every POST carries the session's CSRF token, and the
session cookie's flags."""

from __future__ import annotations

from sqlalchemy import Engine

from gateway.central.store.accounts import Accounts
from gateway.settings import Settings
from tests.central.officials.dashboard import (
    NOW,
    PASSWORD,
    Clock,
    Dashboard,
    failures,
    make_dashboard,
)


def test_every_post_needs_the_sessions_csrf_token(dashboard: Dashboard) -> None:
    data = {"username": "ada", "password": PASSWORD}
    response = dashboard.client.post("/officials/sign-in", data=data)
    assert response.status_code == 400
    assert "security token is missing or out of date" in response.get_data(as_text=True)
    dashboard.csrf()
    response = dashboard.client.post("/officials/sign-in", data={**data, "csrf_token": "forged"})
    assert response.status_code == 400
    assert failures(dashboard.engine) == 0  # refused before any password check


def test_session_cookie_flags(central_engine: Engine, officials_settings: Settings) -> None:
    Accounts(central_engine).add("ada", PASSWORD, admin=False, now=NOW)

    def cookie(dashboard: Dashboard, **kwargs: object) -> str:
        response = dashboard.sign_in("ada", **kwargs)
        assert response.status_code == 302
        return response.headers["Set-Cookie"]

    plain = cookie(make_dashboard(central_engine, officials_settings, Clock()))
    assert "HttpOnly" in plain and "SameSite=Lax" in plain and "Secure" not in plain
    https = make_dashboard(central_engine, officials_settings, Clock())
    https.client = https.app.test_client()
    secure = cookie(https, base_url="https://localhost")
    assert "Secure" in secure and "HttpOnly" in secure and "SameSite=Lax" in secure
    production = officials_settings.with_overrides(production=True)
    assert "Secure" in cookie(make_dashboard(central_engine, production, Clock()))
