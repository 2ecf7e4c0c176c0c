"""Export jobs in the central store (SQLite and PostgreSQL): one job per export under
way, stalled jobs replaced, jobs and their files removed after a day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.central.store.export_jobs import KEEP_FOR, STALE_AFTER, ExportJobs, JobStatus

CID = "survey-test"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


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


def test_files_are_deleted_after_a_day(jobs: ExportJobs) -> None:
    job, _ = jobs.start(CID, "open-data", "zip", "ada", 0, NOW)
    path = jobs.path(job)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"PK\x05\x06" + bytes(18))  # what the export's process leaves
    assert path.is_file()
    assert jobs.remove_expired(NOW + KEEP_FOR - timedelta(seconds=1)) == 0
    assert jobs.remove_expired(NOW + KEEP_FOR + timedelta(seconds=1)) == 1
    assert not path.exists() and jobs.get(job.id) is None
