"""Signing in and out of the dashboard (SQLite and PostgreSQL): passwords, lockouts,
redirects, and sessions that end on the server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from click.testing import CliRunner, Result
from flask.testing import FlaskClient
from sqlalchemy import Engine, select
from werkzeug.test import TestResponse

from gateway.central.store.accounts import SESSION_LIFETIME, hash_session_id
from gateway.central.store.schema import official_sessions
from gateway.central.store.tallies import as_utc
from gateway.cli import cli
from gateway.settings import Settings
from tests.central.officials.dashboard import NOW, PASSWORD, Dashboard, failures, make_dashboard

# --- signing in ---------------------------------------------------------------------------


def test_sign_in_and_out(dashboard: Dashboard) -> None:
    response = dashboard.client.get("/officials/consultations/x?by=gender")
    target = response.headers["Location"]
    assert target == "/officials/sign-in?next=/officials/consultations/x?by%3Dgender"
    token = dashboard.csrf(target)
    response = dashboard.client.post(
        target, data={"username": " Ada ", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/officials/consultations/x?by=gender"
    page = dashboard.client.get("/officials/").get_data(as_text=True)
    assert "Signed in as <strong>ada</strong>" in page

    new_token = dashboard.csrf("/officials/")
    assert new_token != token  # signing in starts a new session
    assert dashboard.client.post("/officials/sign-out").status_code == 400  # no token
    response = dashboard.client.post("/officials/sign-out", data={"csrf_token": new_token})
    assert response.headers["Location"] == "/officials/sign-in"
    assert dashboard.client.get("/officials/").status_code == 302


def test_wrong_password(dashboard: Dashboard) -> None:
    response = dashboard.sign_in("ada", "not the password")
    assert response.status_code == 401
    assert "Wrong username or password." in response.get_data(as_text=True)


def test_five_failures_lock_the_username_for_fifteen_minutes(dashboard: Dashboard) -> None:
    for _ in range(5):
        assert dashboard.sign_in("ada", "guess").status_code == 401
    assert failures(dashboard.engine) == 5  # counted in the database
    refused = dashboard.sign_in("ada", PASSWORD)  # even the right password
    assert refused.status_code == 429
    assert (
        "Too many failed sign-ins for this username. Sign-in is refused for 15 more minutes."
        in refused.get_data(as_text=True)
    )
    assert dashboard.sign_in("root").status_code == 302  # other names are not affected

    # A second process (another gunicorn worker) sees the same count.
    other = make_dashboard(dashboard.engine, Settings(secret_key="x" * 32), dashboard.clock)
    assert other.sign_in("ada", PASSWORD).status_code == 429

    dashboard.clock.now += timedelta(minutes=10)
    assert "refused for 5 more minutes" in dashboard.sign_in("ada").get_data(as_text=True)
    dashboard.clock.now += timedelta(minutes=5, seconds=1)
    assert dashboard.sign_in("ada").status_code == 302
    assert failures(dashboard.engine) == 0


def test_unknown_usernames_are_limited_alike(dashboard: Dashboard) -> None:
    for _ in range(5):
        response = dashboard.sign_in("mallory", PASSWORD)
        assert response.status_code == 401
        assert "Wrong username or password." in response.get_data(as_text=True)
    assert dashboard.sign_in("mallory", PASSWORD).status_code == 429


def test_sign_in_never_redirects_off_the_dashboard(dashboard: Dashboard) -> None:
    for target in ("https://evil.example/", "//evil.example/officials/", "/elsewhere"):
        token = dashboard.csrf()
        response = dashboard.client.post(
            "/officials/sign-in",
            query_string={"next": target},
            data={"username": "ada", "password": PASSWORD, "csrf_token": token},
        )
        assert response.headers["Location"] == "/officials/"
        dashboard.client.post(
            "/officials/sign-out", data={"csrf_token": dashboard.csrf("/officials/")}
        )


# --- sessions end server-side ------------------------------------------------------------


def copy_of_cookie(dashboard: Dashboard) -> FlaskClient:
    """Another client holding a copy of the dashboard client's session cookie."""
    cookie = dashboard.client.get_cookie("session")
    assert cookie is not None
    other = dashboard.app.test_client()
    other.set_cookie("session", cookie.value)
    return other


def another_browser(dashboard: Dashboard) -> Dashboard:
    return Dashboard(dashboard.app, dashboard.app.test_client(), dashboard.engine, dashboard.clock)


def sign_out(dashboard: Dashboard) -> TestResponse:
    return dashboard.client.post(
        "/officials/sign-out", data={"csrf_token": dashboard.csrf("/officials/")}
    )


def session_rows(engine: Engine, username: str | None = None) -> list:
    query = select(official_sessions)
    if username is not None:
        query = query.where(official_sessions.c.username == username)
    with engine.connect() as conn:
        return conn.execute(query).all()


def refused(client: FlaskClient) -> bool:
    response = client.get("/officials/")
    if response.status_code == 200:
        return False
    assert response.status_code == 302
    assert response.headers["Location"] == "/officials/sign-in?next=/officials/"
    return True


def test_a_signed_out_cookie_no_longer_signs_in(dashboard: Dashboard) -> None:
    dashboard.sign_in("ada")
    stolen = copy_of_cookie(dashboard)
    assert not refused(stolen)  # the copy works while the session is open
    assert sign_out(dashboard).headers["Location"] == "/officials/sign-in"
    assert refused(stolen)  # replayed after sign-out: the sign-in page
    assert refused(dashboard.client)
    assert session_rows(dashboard.engine) == []
    page = stolen.get("/officials/sign-in").get_data(as_text=True)
    assert "Signed in as" not in page


def test_the_cookie_holds_a_session_id_and_the_store_its_hash(dashboard: Dashboard) -> None:
    dashboard.sign_in("ada")
    cookie = dashboard.client.get_cookie("session")
    assert cookie is not None
    serializer = dashboard.app.session_interface.get_signing_serializer(dashboard.app)  # type: ignore[attr-defined]
    contents = serializer.loads(cookie.value)
    assert set(contents) == {"_permanent", "officials.session", "officials.csrf"}  # no name
    session_id = contents["officials.session"]
    [row] = session_rows(dashboard.engine)
    assert row.id_hash == hash_session_id(session_id) != session_id
    assert row.username == "ada"
    assert as_utc(row.created_at) == NOW and as_utc(row.expires_at) == NOW + SESSION_LIFETIME


def test_signing_in_again_replaces_the_session(dashboard: Dashboard) -> None:
    dashboard.sign_in("ada")
    before = copy_of_cookie(dashboard)
    dashboard.sign_in("root")  # the same browser, another official
    assert refused(before)
    assert [r.username for r in session_rows(dashboard.engine)] == ["root"]
    assert "Signed in as <strong>root</strong>" in dashboard.client.get("/officials/").get_data(
        as_text=True
    )


def test_sessions_expire_and_are_cleaned_up(dashboard: Dashboard) -> None:
    dashboard.sign_in("ada")
    dashboard.clock.now += SESSION_LIFETIME - timedelta(seconds=1)
    assert not refused(dashboard.client)
    dashboard.clock.now += timedelta(seconds=1)
    assert refused(dashboard.client)  # eight hours after signing in, however active
    assert len(session_rows(dashboard.engine, "ada")) == 1
    other = make_dashboard(dashboard.engine, Settings(secret_key="y" * 32), dashboard.clock)
    assert other.sign_in("root").status_code == 302  # any sign-in clears expired sessions
    assert session_rows(dashboard.engine, "ada") == []
    assert len(session_rows(dashboard.engine, "root")) == 1


def officials_cli(central_url: str, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(
        cli, ["officials", *args], input=input, env={"CENTRAL_DATABASE_URL": central_url}
    )


def test_reset_password_ends_the_officials_sessions(dashboard: Dashboard, central_url: str) -> None:
    dashboard.clock.now = datetime.now(UTC)  # the command's clock
    dashboard.sign_in("ada")
    laptop = copy_of_cookie(dashboard)
    phone = another_browser(dashboard)
    assert phone.sign_in("ada").status_code == 302  # a second session of hers
    admin = another_browser(dashboard)
    assert admin.sign_in("root").status_code == 302

    result = officials_cli(
        central_url, "reset-password", "ada", "--password-stdin", input="a brand new one\n"
    )
    assert result.exit_code == 0, result.output
    assert result.output == "new password for ada; ended 2 open sessions\n"
    assert refused(dashboard.client) and refused(laptop) and refused(phone.client)
    assert not refused(admin.client)  # other officials stay signed in
    assert dashboard.sign_in("ada").status_code == 401  # the old password
    assert dashboard.sign_in("ada", "a brand new one").status_code == 302
    assert not refused(dashboard.client)


def test_remove_ends_the_officials_sessions(dashboard: Dashboard, central_url: str) -> None:
    dashboard.clock.now = datetime.now(UTC)  # the command's clock
    dashboard.sign_in("ada")
    laptop = copy_of_cookie(dashboard)
    result = officials_cli(central_url, "remove", "ada", "--yes")
    assert result.exit_code == 0, result.output
    assert result.output == "removed official ada; ended 1 open session\n"
    assert refused(dashboard.client) and refused(laptop)
    assert session_rows(dashboard.engine) == []
    assert dashboard.sign_in("ada").status_code == 401
