"""The dashboard through Flask's test client: sign-in, CSRF, cookies, pages, downloads,
embargo (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json
import re
import time
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import Engine, func, insert, select
from werkzeug.test import TestResponse

from gateway.central.officials import exports
from gateway.central.officials.web import register_officials
from gateway.central.store.accounts import SESSION_LIFETIME, Accounts, hash_session_id
from gateway.central.store.schema import events, gateways, official_sessions, signin_failures
from gateway.central.store.tallies import as_utc
from gateway.cli import cli
from gateway.settings import Settings
from tests.central.officials.population import (
    event,
    generate,
    insert_events,
    publish,
    published_survey,
    survey,
)

CID = "survey-test"
PASSWORD = "correct horse battery"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = field(default=NOW)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Dashboard:
    app: Flask
    client: FlaskClient
    engine: Engine
    clock: Clock

    def csrf(self, path: str = "/officials/sign-in") -> str:
        page = self.client.get(path).get_data(as_text=True)
        match = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert match, page
        return match.group(1)

    def sign_in(self, username: str, password: str = PASSWORD, **kwargs: object) -> TestResponse:
        token = self.csrf()
        return self.client.post(
            "/officials/sign-in",
            data={"username": username, "password": password, "csrf_token": token},
            **kwargs,  # type: ignore[arg-type]
        )


def make_dashboard(engine: Engine, settings: Settings, clock: Clock) -> Dashboard:
    app = Flask("central-test")
    register_officials(app, engine, settings, clock=clock)
    return Dashboard(app, app.test_client(), engine, clock)


@pytest.fixture
def dashboard(central_engine: Engine, officials_settings: Settings) -> Dashboard:
    accounts = Accounts(central_engine)
    accounts.add("ada", PASSWORD, admin=False, now=NOW)
    accounts.add("root", PASSWORD, admin=True, now=NOW)
    return make_dashboard(central_engine, officials_settings, Clock())


@pytest.fixture
def with_results(dashboard: Dashboard) -> Dashboard:
    consultation, definition = survey()
    publish(dashboard.engine, definition, CID)
    insert_events(dashboard.engine, generate(consultation, 90, seed=11))
    with dashboard.engine.begin() as conn:
        conn.execute(
            insert(gateways).values(
                name="gw-1",
                token_hash="0" * 64,
                created_at=NOW,
                last_contact_at=NOW - timedelta(hours=3),
                newest_event_at=NOW - timedelta(hours=4),
                backlog=12,
            )
        )
    return dashboard


def failures(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(signin_failures)).scalar_one()


# --- signing in ---------------------------------------------------------------------------


def test_pages_need_a_signed_in_official(dashboard: Dashboard) -> None:
    response = dashboard.client.get("/officials/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/officials/sign-in?next=/officials/"


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


def test_every_post_needs_the_sessions_csrf_token(dashboard: Dashboard) -> None:
    data = {"username": "ada", "password": PASSWORD}
    response = dashboard.client.post("/officials/sign-in", data=data)
    assert response.status_code == 400
    assert "security token is missing or out of date" in response.get_data(as_text=True)
    dashboard.csrf()
    response = dashboard.client.post("/officials/sign-in", data={**data, "csrf_token": "forged"})
    assert response.status_code == 400
    assert failures(dashboard.engine) == 0  # refused before any password check


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


def test_a_removed_account_is_signed_out(dashboard: Dashboard) -> None:
    from gateway.central.store.schema import officials

    dashboard.sign_in("ada")
    assert dashboard.client.get("/officials/").status_code == 200
    with dashboard.engine.begin() as conn:
        conn.execute(officials.delete().where(officials.c.username == "ada"))
    assert dashboard.client.get("/officials/").status_code == 302


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


# --- pages --------------------------------------------------------------------------------


def test_consultations_list(with_results: Dashboard) -> None:
    with_results.sign_in("ada")
    response = with_results.client.get("/officials/")
    page = response.get_data(as_text=True)
    assert "County services survey" in page and "survey-test" in page
    assert '<span class="status status-open">open</span>' in page
    for header in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options"):
        assert header in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_consultation_page(with_results: Dashboard) -> None:
    with_results.sign_in("ada")
    page = with_results.client.get(f"/officials/consultations/{CID}").get_data(as_text=True)
    assert page.count("<figure>") == 7 and page.count("<figcaption>") == 7
    assert page.count('<svg class="chart"') == 7 and 'role="img"' in page
    assert page.count('<table class="tally">') == 7
    assert '<select id="by" name="by">' in page and '<button type="submit">Show</button>' in page
    assert f"/officials/consultations/{CID}/tallies.csv" in page
    assert f'action="/officials/consultations/{CID}/exports"' in page
    assert 'value="open-data.zip"' in page and 'value="responses.csv"' in page
    assert "No contact for 3 h" in page  # the gateway's sync health, in words
    assert '<td class="num">12</td>' in page  # its backlog
    assert "&lt;5" not in page  # overall tallies are never suppressed

    page = with_results.client.get(f"/officials/consultations/{CID}?by=age_band").get_data(
        as_text=True
    )
    assert '<option value="age_band" selected>' in page
    assert page.count('<table class="breakdown">') == 7
    assert "&lt;5" in page and "Not stated" in page
    assert f"/officials/consultations/{CID}/tallies.csv?by=age_band" in page


def test_unknown_consultation_and_breakdown(with_results: Dashboard) -> None:
    with_results.sign_in("ada")
    missing = with_results.client.get("/officials/consultations/nope")
    assert missing.status_code == 404
    assert "No published consultation" in missing.get_data(as_text=True)
    bad = with_results.client.get(f"/officials/consultations/{CID}?by=comment")
    assert bad.status_code == 400
    assert "cannot be broken down by" in bad.get_data(as_text=True)


# --- downloads ----------------------------------------------------------------------------


def test_downloads(with_results: Dashboard) -> None:
    with_results.sign_in("ada")
    base = f"/officials/consultations/{CID}"
    response = with_results.client.get(f"{base}/tallies.csv?by=gender")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{CID}-tallies-by-gender.csv"'
    )
    assert {
        r["breakdown"] for r in csv.DictReader(io.StringIO(response.get_data(as_text=True)))
    } == {"gender"}

    document = json.loads(with_results.client.get(f"{base}/tallies.json").get_data())
    assert document["consultation"] == CID and len(document["questions"]) == 7

    book = load_workbook(io.BytesIO(with_results.client.get(f"{base}/tallies.xlsx").get_data()))
    assert book.sheetnames[:3] == ["Summary", "Tallies", "By age_band"]
    assert with_results.client.get(f"{base}/tallies.pdf").status_code == 404


def test_embargoed_results_stay_hidden_until_closing(
    dashboard: Dashboard, officials_settings: Settings
) -> None:
    consultation, definition = survey("embargo: true\n")
    publish(dashboard.engine, definition, CID)
    insert_events(dashboard.engine, [event(CID, "priority", "p1", value="water")])
    base = f"/officials/consultations/{CID}"

    dashboard.sign_in("ada")
    page = dashboard.client.get(base).get_data(as_text=True)
    assert "Results under embargo" in page and "Water points" not in page
    assert "tallies.csv" not in page
    for path in ("tallies.csv", "tallies.json"):
        refused = dashboard.client.get(f"{base}/{path}")
        assert refused.status_code == 403
        assert "under embargo until it closes" in refused.get_data(as_text=True)

    admin = make_dashboard(dashboard.engine, officials_settings, dashboard.clock)
    admin.sign_in("root")
    page = admin.client.get(base).get_data(as_text=True)
    assert "Results under embargo" in page and "Water points" not in page
    assert "As an administrator you can still export them" in page
    tallies = admin.client.get(f"{base}/tallies.json")
    assert tallies.status_code == 200
    assert json.loads(tallies.get_data())["questions"][0]["options"][0]["total"] == 1

    dashboard.clock.now = consultation.closes + timedelta(seconds=1)
    dashboard.sign_in("ada")  # years later: the session of then has expired
    page = dashboard.client.get(base).get_data(as_text=True)
    assert "Results under embargo" not in page and "Water points" in page
    assert dashboard.client.get(f"{base}/tallies.csv").status_code == 200


def test_the_central_app_serves_the_dashboard(central_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from gateway.central.app import create_central_app
    from gateway.central.store.central_store import CentralStore

    store = CentralStore.from_url(central_url)
    store.create_schema()
    Accounts(store.engine).add("ada", PASSWORD, admin=False, now=NOW)
    settings = Settings(central_database_url=central_url, secret_key="k" * 32)
    app = create_central_app(settings, store)
    dashboard = Dashboard(app, app.test_client(), store.engine, Clock())
    assert dashboard.client.get("/officials/").status_code == 302
    assert dashboard.sign_in("ada").headers["Location"] == "/officials/"
    assert "No consultation has been published yet." in dashboard.client.get(
        "/officials/"
    ).get_data(as_text=True)
    store.engine.dispose()


# --- prepared exports -----------------------------------------------------------------


def wait_until_ready(dashboard: Dashboard, page_url: str, timeout: float = 60) -> str:
    """Follow the progress page as a browser would (it refreshes itself while pending)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page = dashboard.client.get(page_url).get_data(as_text=True)
        if "Being prepared" not in page:
            return page
        assert '<meta http-equiv="refresh" content="2">' in page
        time.sleep(0.2)
    raise AssertionError(f"not ready within {timeout} s")


def start(dashboard: Dashboard, choice: str) -> str:
    base = f"/officials/consultations/{CID}"
    response = dashboard.client.post(f"{base}/exports", data={
        "export": choice, "csrf_token": dashboard.csrf(base)})
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"]


def test_prepared_in_another_process_and_downloaded_whole_or_in_part(
    dashboard: Dashboard,
) -> None:
    published_survey(dashboard.engine, 30)
    dashboard.sign_in("ada")
    page_url = start(dashboard, "responses.csv")
    assert re.fullmatch(r"/officials/exports/[\w-]{20,}", page_url)
    assert start(dashboard, "responses.csv") == page_url  # a second click joins it
    page = wait_until_ready(dashboard, page_url)
    assert "Ready" in page and f"{CID}-responses.csv" in page
    consultation_page = dashboard.client.get(f"/officials/consultations/{CID}")
    assert page_url in consultation_page.get_data(as_text=True)

    with dashboard.client.get(f"{page_url}/download") as download:
        assert download.status_code == 200 and download.mimetype == "text/csv"
        assert download.headers["Content-Disposition"] == (
            f"attachment; filename={CID}-responses.csv")
        body = download.get_data()
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8"))))
    assert rows and sum(r["counted"] == "1" for r in rows) < len(rows)
    with dashboard.client.get(f"{page_url}/download", headers={"Range": "bytes=10-99"}) as part:
        assert part.status_code == 206 and part.get_data() == body[10:100]

    archive_page = start(dashboard, "open-data.zip")
    wait_until_ready(dashboard, archive_page)
    with dashboard.client.get(f"{archive_page}/download") as archive:
        packed = archive.get_data()
    with zipfile.ZipFile(io.BytesIO(packed)) as zf:
        assert f"{CID}-open-data/SHA256SUMS" in zf.namelist()
        everything = b"".join(zf.read(name) for name in zf.namelist())
        released = zf.read(f"{CID}-open-data/responses.csv").decode()
    # The same release as `civicline export open-data`: no event id, no pseudonym.
    assert released.splitlines()[0] == ",".join(exports.OPEN_RESPONSE_COLUMNS)
    with dashboard.engine.connect() as conn:
        stored = conn.execute(select(events.c.event_id, events.c.pseudonym)).all()
    assert stored and not [v for row in stored for v in row if v.encode() in everything]


def test_unknown_choices_and_jobs(dashboard: Dashboard) -> None:
    published_survey(dashboard.engine, 3)
    dashboard.sign_in("ada")
    base = f"/officials/consultations/{CID}"
    bad = dashboard.client.post(f"{base}/exports", data={
        "export": "responses.pdf", "csrf_token": dashboard.csrf(base)})
    assert bad.status_code == 400 and "Unknown export" in bad.get_data(as_text=True)
    missing = dashboard.client.get("/officials/exports/nothing-here")
    assert missing.status_code == 404
    assert "deleted after a day" in missing.get_data(as_text=True)


def test_embargoed_exports_are_for_administrators(
    dashboard: Dashboard, officials_settings: Settings, tmp_path: Path
) -> None:
    _, definition = survey("embargo: true\n")
    publish(dashboard.engine, definition, CID)
    insert_events(dashboard.engine, [event(CID, "priority", "p1", value="water")])
    admin = make_dashboard(dashboard.engine, officials_settings, dashboard.clock)
    admin.sign_in("root")
    page_url = start(admin, "responses.json")
    wait_until_ready(admin, page_url)
    with admin.client.get(f"{page_url}/download") as download:
        assert download.status_code == 200

    dashboard.sign_in("ada")
    base = f"/officials/consultations/{CID}"
    refused = dashboard.client.post(f"{base}/exports", data={
        "export": "responses.csv", "csrf_token": dashboard.csrf(base)})
    assert refused.status_code == 403
    assert "under embargo until it closes" in refused.get_data(as_text=True)
    for path in (page_url, f"{page_url}/download"):
        assert dashboard.client.get(path).status_code == 403
