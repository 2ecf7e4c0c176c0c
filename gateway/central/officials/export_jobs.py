"""Long exports (every response, the open-data zip) prepared in a process of their own
and downloaded from the dashboard once complete.

A responses export of a million rows takes tens of seconds of CPU (minutes as XLSX):
longer than a web worker may hold one request (gunicorn stops a sync worker after its
`timeout`, and a slow client would stretch a streamed download further), and work that
would slow every webhook of its web worker if it ran in a thread there (the threads of
one process take turns at the interpreter lock). So the dashboard records a job and
starts a separate process that writes the file and records its progress; the file is
served once complete, and deleted after KEEP_FOR.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine, delete, insert, select, update

from gateway.central.officials import exports
from gateway.central.officials.reports import Published, Reports
from gateway.central.store.schema import export_jobs
from gateway.central.store.tallies import ResponseRow, as_utc
from gateway.database import make_engine, write_transaction
from gateway.settings import Settings

log = logging.getLogger(__name__)

# What can be prepared: (kind, format).
CHOICES = (("responses", "csv"), ("responses", "xlsx"), ("responses", "json"),
           ("open-data", "zip"))
KEEP_FOR = timedelta(hours=24)  # a prepared file is deleted after this
# A job whose row has not moved for this long lost its process (a restart, a crash).
STALE_AFTER = timedelta(minutes=10)
PROGRESS_EVERY = 10_000  # rows between progress updates
# The export's process yields the CPU to the web workers' webhooks whenever both want it.
NICENESS = 10

ResponsesSource = Callable[[], Iterable[ResponseRow]]


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


def exports_folder(settings: Settings) -> Path:
    return settings.data_dir / "exports"


def start_process(settings: Settings, job_id: str) -> None:
    """Run the job in a new process (a fresh interpreter: nothing of the web worker's
    state, connections or threads is inherited)."""
    multiprocessing.active_children()  # reaps jobs that ended
    context = multiprocessing.get_context("spawn")
    context.Process(target=_run_in_background, args=(settings, job_id),
                    name=f"civicline-export-{job_id}").start()


def _run_in_background(settings: Settings, job_id: str) -> None:
    os.nice(NICENESS)
    run_export_job(settings, job_id)


def run_export_job(settings: Settings, job_id: str) -> None:
    """Write the job's file, recording progress; the job ends done or failed."""
    engine = make_engine(settings.central_database_url,
                         synchronous=settings.sqlite_synchronous)
    jobs = ExportJobs(engine, exports_folder(settings))
    try:
        job = jobs.get(job_id)
        if job is None or job.status is not JobStatus.QUEUED:
            return
        jobs.running(job_id, _now())
        reports = Reports(engine, settings.small_cell_k)
        published = reports.consultation(job.consultation_id)
        counter = _Progress(jobs, job_id)
        target = jobs.path(job)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        try:
            with partial.open("wb") as out:
                write_export(out, reports, published, job.kind, job.fmt, _now(),
                             lambda: counter.count(reports.responses(published)))
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        jobs.finished(job_id, counter.rows, target.stat().st_size, _now())
        log.info("export %s of %s: %d rows, %d bytes", job.filename, job.consultation_id,
                 counter.rows, target.stat().st_size)
    except Exception as exc:  # noqa: BLE001 - recorded for the official, then logged
        log.exception("export job %s failed", job_id)
        jobs.failed(job_id, f"{exc.__class__.__name__}: {exc}", _now())
    finally:
        engine.dispose()


def write_export(out: IO[bytes], reports: Reports, published: Published, kind: str,
                 fmt: str, now: datetime, responses: ResponsesSource) -> None:
    """One of CHOICES, written to `out`."""
    if kind == "open-data":
        tally = reports.tally(published)
        exports.write_open_data(out, published, tally, reports.all_breakdowns(tally),
                                responses, now, reports.k)
    elif fmt == "csv":
        _write_text(out, exports.responses_csv(published, responses()))
    elif fmt == "json":
        _write_text(out, exports.responses_json(published, responses()))
    else:
        exports.write_responses_xlsx(out, published, responses())


def _write_text(out: IO[bytes], chunks: Iterable[str]) -> None:
    for chunk in chunks:
        out.write(chunk.encode("utf-8"))


class _Progress:
    def __init__(self, jobs: ExportJobs, job_id: str) -> None:
        self.jobs = jobs
        self.job_id = job_id
        self.rows = 0

    def count(self, rows: Iterable[ResponseRow]) -> Iterator[ResponseRow]:
        self.rows = 0
        for row in rows:
            self.rows += 1
            if self.rows % PROGRESS_EVERY == 0:
                self.jobs.progress(self.job_id, self.rows, _now())
            yield row


def _now() -> datetime:
    return datetime.now(UTC)
