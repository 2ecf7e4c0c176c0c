"""What every page of the dashboard shares (SQLite and PostgreSQL): no page without a
signed-in official, and the central app mounts it."""

from __future__ import annotations

from gateway.central.store.accounts import Accounts
from gateway.settings import Settings
from tests.central.officials.dashboard import NOW, PASSWORD, Clock, Dashboard


def test_pages_need_a_signed_in_official(dashboard: Dashboard) -> None:
    response = dashboard.client.get("/officials/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/officials/sign-in?next=/officials/"


def test_a_removed_account_is_signed_out(dashboard: Dashboard) -> None:
    from gateway.central.store.schema import officials

    dashboard.sign_in("ada")
    assert dashboard.client.get("/officials/").status_code == 200
    with dashboard.engine.begin() as conn:
        conn.execute(officials.delete().where(officials.c.username == "ada"))
    assert dashboard.client.get("/officials/").status_code == 302


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
