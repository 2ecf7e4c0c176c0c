"""Downloads from the dashboard (SQLite and PostgreSQL): tallies at once, every response
and the open-data zip prepared in another process and downloaded when ready."""

from __future__ import annotations

import csv
import io
import json
import re
import time
import zipfile
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import select

from gateway.central.officials.exports.open_data import OPEN_RESPONSE_COLUMNS
from gateway.central.store.schema import events
from gateway.settings import Settings
from tests.central.officials.dashboard import CID, Dashboard, make_dashboard
from tests.central.officials.population import (
    event,
    insert_events,
    publish,
    published_survey,
    survey,
)


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
    assert rows and sum(r["counted"] == "true" for r in rows) < len(rows)
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
    assert released.splitlines()[0] == ",".join(OPEN_RESPONSE_COLUMNS)
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
