"""Long exports (every response, the open-data zip) written by a process of their own,
to be downloaded from the dashboard once complete.

A responses export of a million rows takes tens of seconds of CPU (minutes as XLSX):
longer than a web worker may hold one request (gunicorn stops a sync worker after its
`timeout`, and a slow client would stretch a streamed download further), and work that
would slow every webhook of its web worker if it ran in a thread there (the threads of
one process take turns at the interpreter lock). So the dashboard records a job and
starts a separate process that writes the file and records its progress; the file is
served once complete, and deleted after a day (KEEP_FOR, with the jobs'
records in gateway/central/store/export_jobs.py).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from gateway.central.officials.exports import as_csv, as_json, as_xlsx, open_data
from gateway.central.officials.reports import Published, Reports
from gateway.central.store.export_jobs import ExportJobs, JobStatus
from gateway.central.store.responses import ResponseRow
from gateway.database import make_engine
from gateway.settings import Settings

log = logging.getLogger(__name__)

PROGRESS_EVERY = 10_000  # rows between progress updates
# The export's process yields the CPU to the web workers' webhooks whenever both want it.
NICENESS = 10

# Every response, or with a release's salt in the order of that open-data release.
ResponsesSource = Callable[[str | None], Iterable[ResponseRow]]


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

        def responses(release_salt: str | None) -> Iterable[ResponseRow]:
            return counter.count(reports.responses(published, release_salt=release_salt))

        target = jobs.path(job)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        try:
            with partial.open("wb") as out:
                write_export(out, reports, published, job.kind, job.fmt, _now(), responses)
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
        open_data.write_open_data(out, published, tally, reports.all_breakdowns(tally),
                                responses, now, reports.k)
    elif fmt == "csv":
        _write_text(out, as_csv.responses_csv(published, responses(None)))
    elif fmt == "json":
        _write_text(out, as_json.responses_json(published, responses(None)))
    else:
        as_xlsx.write_responses_xlsx(out, published, responses(None))


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
