"""Exports prepared in a process of their own and downloaded when ready (SQLite and
PostgreSQL), through the dashboard and directly."""

from __future__ import annotations

import csv
import io
import re
import time
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from gateway.central.officials import exports
from gateway.central.officials.export_jobs import (
    KEEP_FOR,
    STALE_AFTER,
    ExportJobs,
    JobStatus,
    _Progress,
    exports_folder,
    run_export_job,
)
from gateway.central.officials.reports import Reports
from gateway.central.store.accounts import Accounts
from gateway.central.store.schema import events
from gateway.settings import Settings
from tests.central.officials.population import event, generate, insert_events, publish, survey
from tests.central.officials.test_dashboard import (
    CID,
    NOW,
    PASSWORD,
    Clock,
    Dashboard,
    make_dashboard,
)


@pytest.fixture
def dashboard(central_engine: Engine, officials_settings: Settings) -> Dashboard:
    accounts = Accounts(central_engine)
    accounts.add("ada", PASSWORD, admin=False, now=NOW)
    accounts.add("root", PASSWORD, admin=True, now=NOW)
    return make_dashboard(central_engine, officials_settings, Clock())


@pytest.fixture
def jobs(central_engine: Engine, officials_settings: Settings) -> ExportJobs:
    return ExportJobs(central_engine, exports_folder(officials_settings))


def published_survey(engine: Engine, participants: int = 40) -> None:
    consultation, definition = survey()
    publish(engine, definition, CID)
    insert_events(engine, generate(consultation, participants, seed=5))


def test_a_second_request_joins_the_export_under_way(jobs: ExportJobs) -> None:
    first, new = jobs.start(CID, "responses", "csv", "ada", 10, NOW)
    assert new and first.status is JobStatus.QUEUED
    again, new = jobs.start(CID, "responses", "csv", "root", 10, NOW + timedelta(seconds=5))
    assert (again.id, new) == (first.id, False)
    other, new = jobs.start(CID, "responses", "json", "ada", 10, NOW)
    assert new and other.id != first.id
    # A job whose process ended without a word is stalled: a new request starts afresh.
    later = NOW + STALE_AFTER + timedelta(seconds=1)
    assert jobs.get(first.id).stalled(later)  # type: ignore[union-attr]
    fresh, new = jobs.start(CID, "responses", "csv", "ada", 10, later)
    assert new and fresh.id != first.id
    with pytest.raises(ValueError, match="cannot export responses as zip"):
        jobs.start(CID, "responses", "zip", "ada", 10, NOW)


def test_the_job_writes_what_the_command_line_export_writes(
    central_engine: Engine, officials_settings: Settings, jobs: ExportJobs
) -> None:
    published_survey(central_engine)
    reports = Reports(central_engine, 5)
    published = reports.consultation(CID)
    total = reports.store.response_count(CID)
    job, _ = jobs.start(CID, "responses", "csv", "ada", total, NOW)
    run_export_job(officials_settings, job.id)
    done = jobs.get(job.id)
    assert done is not None and done.status is JobStatus.DONE
    assert done.rows_done == total and done.percent() == 100
    written = jobs.path(done).read_text(encoding="utf-8")
    assert written == "".join(exports.responses_csv(published, reports.responses(published)))
    assert done.size == jobs.path(done).stat().st_size
    assert not list(jobs.folder.glob("*.part"))


def test_progress_is_recorded_as_rows_are_written(
    central_engine: Engine, jobs: ExportJobs, monkeypatch: pytest.MonkeyPatch
) -> None:
    published_survey(central_engine)
    reports = Reports(central_engine, 5)
    rows = list(reports.responses(reports.consultation(CID)))
    job, _ = jobs.start(CID, "responses", "csv", "ada", len(rows), NOW)
    monkeypatch.setattr("gateway.central.officials.export_jobs.PROGRESS_EVERY", 50)
    progress = _Progress(jobs, job.id)
    seen = []
    for n, _row in enumerate(progress.count(rows), start=1):
        if n % 50 == 1 and n > 50:  # just after an update
            seen.append(jobs.get(job.id).rows_done)  # type: ignore[union-attr]
    assert progress.rows == len(rows) > 100
    assert seen == list(range(50, len(rows), 50))[: len(seen)] and seen


def test_a_failure_is_recorded_for_the_official(
    officials_settings: Settings, jobs: ExportJobs
) -> None:
    job, _ = jobs.start("no-such-consultation", "responses", "csv", "ada", 0, NOW)
    run_export_job(officials_settings, job.id)
    failed = jobs.get(job.id)
    assert failed is not None and failed.status is JobStatus.FAILED
    assert "UnknownConsultation" in (failed.error or "")
    assert not jobs.path(failed).exists()


def test_files_are_deleted_after_a_day(
    central_engine: Engine, officials_settings: Settings, jobs: ExportJobs
) -> None:
    published_survey(central_engine, 5)
    job, _ = jobs.start(CID, "open-data", "zip", "ada", 0, NOW)
    run_export_job(officials_settings, job.id)
    path = jobs.path(job)
    assert path.is_file()
    assert jobs.remove_expired(NOW + KEEP_FOR - timedelta(seconds=1)) == 0
    assert jobs.remove_expired(NOW + KEEP_FOR + timedelta(seconds=1)) == 1
    assert not path.exists() and jobs.get(job.id) is None


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
