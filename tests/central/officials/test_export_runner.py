"""Exports written by a process of their own (SQLite and PostgreSQL): the file is what
the command line writes, progress is recorded as rows are written, a failure is recorded
for the official."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from gateway.central.officials.export_runner import _Progress, run_export_job
from gateway.central.officials.exports.as_csv import responses_csv
from gateway.central.officials.reports import Reports
from gateway.central.store.export_jobs import ExportJobs, JobStatus
from gateway.settings import Settings
from tests.central.officials.population import published_survey

CID = "survey-test"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


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
    assert written == "".join(responses_csv(published, reports.responses(published)))
    assert done.size == jobs.path(done).stat().st_size
    assert not list(jobs.folder.glob("*.part"))


def test_progress_is_recorded_as_rows_are_written(
    central_engine: Engine, jobs: ExportJobs, monkeypatch: pytest.MonkeyPatch
) -> None:
    published_survey(central_engine)
    reports = Reports(central_engine, 5)
    rows = list(reports.responses(reports.consultation(CID)))
    job, _ = jobs.start(CID, "responses", "csv", "ada", len(rows), NOW)
    monkeypatch.setattr("gateway.central.officials.export_runner.PROGRESS_EVERY", 50)
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
