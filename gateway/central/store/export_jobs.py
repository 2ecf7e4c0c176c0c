"""Export jobs in the central store (table export_jobs), and the files they write.

A long export (every response, the open-data zip) is recorded here when an official
asks for it; the process that writes its file (gateway/central/officials/export_runner.py)
records its progress and how it ended. The file lives in `folder`, under the job's id,
and goes with its job after KEEP_FOR.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update

from gateway.central.store.schema import export_jobs
from gateway.central.store.tallies import as_utc
from gateway.database import write_transaction

# What can be prepared: (kind, format).
CHOICES = (("responses", "csv"), ("responses", "xlsx"), ("responses", "json"),
           ("open-data", "zip"))
KEEP_FOR = timedelta(hours=24)  # a prepared file is deleted after this
# A job whose row has not moved for this long lost its process (a restart, a crash).
STALE_AFTER = timedelta(minutes=10)


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


LIVE = (JobStatus.QUEUED, JobStatus.RUNNING)


@dataclass(frozen=True)
class ExportJob:
    id: str
    consultation_id: str
    kind: str  # responses | open-data
    fmt: str  # csv | xlsx | json | zip
    requested_by: str
    requested_at: datetime
    status: JobStatus
    rows_done: int
    rows_total: int | None
    size: int | None
    updated_at: datetime
    error: str | None

    @property
    def filename(self) -> str:
        """The name the download is saved under."""
        if self.kind == "open-data":
            return f"{self.consultation_id}-open-data.zip"
        return f"{self.consultation_id}-{self.kind}.{self.fmt}"

    @property
    def label(self) -> str:
        return "Open-data package (zip)" if self.kind == "open-data" else (
            f"Every response ({self.fmt.upper()})")

    def stalled(self, now: datetime) -> bool:
        return self.status in LIVE and now - self.updated_at > STALE_AFTER

    def percent(self) -> int | None:
        if not self.rows_total:
            return None
        return min(100, self.rows_done * 100 // self.rows_total)


class ExportJobs:
    """Jobs in the central store (table export_jobs) and their files in `folder`."""

    def __init__(self, engine: Engine, folder: Path) -> None:
        self.engine = engine
        self.folder = folder

    def path(self, job: ExportJob) -> Path:
        return self.folder / f"{job.id}.{job.fmt}"

    def start(self, consultation_id: str, kind: str, fmt: str, official: str,
              rows_total: int, now: datetime) -> tuple[ExportJob, bool]:
        """A job for this export: the same one already under way (so a second click
        starts nothing), or a new one. Returns (job, whether it is new)."""
        if (kind, fmt) not in CHOICES:
            raise ValueError(f"cannot export {kind} as {fmt}")
        j = export_jobs.c
        with write_transaction(self.engine) as conn:
            rows = conn.execute(
                select(export_jobs).where(
                    j.consultation_id == consultation_id, j.kind == kind, j.format == fmt,
                    j.status.in_([str(s) for s in LIVE]),
                )
            ).all()
            for row in rows:
                job = _job(row)
                if not job.stalled(now):
                    return job, False
            job_id = secrets.token_urlsafe(16)
            conn.execute(insert(export_jobs).values(
                id=job_id, consultation_id=consultation_id, kind=kind, format=fmt,
                requested_by=official, requested_at=now, status=str(JobStatus.QUEUED),
                rows_done=0, rows_total=rows_total, updated_at=now,
            ))
        found = self.get(job_id)
        assert found is not None
        return found, True

    def get(self, job_id: str) -> ExportJob | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(export_jobs).where(export_jobs.c.id == job_id)).first()
        return None if row is None else _job(row)

    def recent(self, consultation_id: str) -> list[ExportJob]:
        j = export_jobs.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(export_jobs).where(j.consultation_id == consultation_id)
                .order_by(j.requested_at.desc()).limit(20)
            ).all()
        return [_job(row) for row in rows]

    def _set(self, job_id: str, now: datetime, **values: object) -> None:
        with write_transaction(self.engine) as conn:
            conn.execute(update(export_jobs).where(export_jobs.c.id == job_id)
                         .values(updated_at=now, **values))

    def running(self, job_id: str, now: datetime) -> None:
        self._set(job_id, now, status=str(JobStatus.RUNNING))

    def progress(self, job_id: str, rows_done: int, now: datetime) -> None:
        self._set(job_id, now, rows_done=rows_done)

    def finished(self, job_id: str, rows_done: int, size: int, now: datetime) -> None:
        self._set(job_id, now, status=str(JobStatus.DONE), rows_done=rows_done, size=size)

    def failed(self, job_id: str, error: str, now: datetime) -> None:
        self._set(job_id, now, status=str(JobStatus.FAILED), error=error[:2000])

    def remove_expired(self, now: datetime) -> int:
        """Delete jobs requested more than KEEP_FOR ago, with their files."""
        j = export_jobs.c
        with write_transaction(self.engine) as conn:
            rows = conn.execute(
                select(export_jobs).where(j.requested_at < now - KEEP_FOR)
            ).all()
            for row in rows:
                self.path(_job(row)).unlink(missing_ok=True)
            if rows:
                conn.execute(delete(export_jobs).where(j.id.in_([r.id for r in rows])))
        return len(rows)


def _job(row: Any) -> ExportJob:
    """An export_jobs row as an ExportJob."""
    return ExportJob(
        id=row.id, consultation_id=row.consultation_id, kind=row.kind, fmt=row.format,
        requested_by=row.requested_by, requested_at=as_utc(row.requested_at),
        status=JobStatus(row.status), rows_done=row.rows_done, rows_total=row.rows_total,
        size=row.size, updated_at=as_utc(row.updated_at), error=row.error,
    )
