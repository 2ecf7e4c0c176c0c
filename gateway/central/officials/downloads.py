"""The dashboard's downloads: tallies at once, and every response or the open-data zip
prepared in the background (export_runner.py) and downloaded from the job's page once
ready. Only for officials who may export the consultation's results (embargo)."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import IO

from flask import Response, abort, g, redirect, render_template, request, send_file, url_for

from gateway.central.officials.export_runner import start_process
from gateway.central.officials.exports import as_csv, as_json, as_xlsx
from gateway.central.officials.exports.rows import FORMATS, MIMETYPES
from gateway.central.officials.web import bp, breakdown_of, dashboard, may_export, published
from gateway.central.store.export_jobs import CHOICES, ExportJob, JobStatus

log = logging.getLogger(__name__)

FILE_CHUNK = 64 * 1024


def _stream_file(fill: Callable[[IO[bytes]], object]) -> Iterator[bytes]:
    """Write a file that needs seeking (a zip, an XLSX) to a temporary file, then stream it."""
    with tempfile.TemporaryFile() as spool:
        fill(spool)
        spool.seek(0)
        while chunk := spool.read(FILE_CHUNK):
            yield chunk


def _encoded(chunks: Iterable[str]) -> Iterator[bytes]:
    for chunk in chunks:
        yield chunk.encode("utf-8")


def _download(body: Iterator[bytes], filename: str, fmt: str) -> Response:
    response = Response(body, mimetype=MIMETYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/consultations/<consultation_id>/tallies.<fmt>")
def tallies(consultation_id: str, fmt: str) -> Response:
    if fmt not in FORMATS:
        abort(404)
    d = dashboard()
    shown = published(consultation_id)
    may_export(shown)
    tally = d.reports.tally(shown)
    by = request.args.get("by", "")
    breakdown = breakdown_of(tally, by)
    now = d.clock()
    k = d.settings.small_cell_k
    name = f"{shown.id}-tallies" + (f"-by-{by}" if breakdown else "") + f".{fmt}"
    if fmt == "csv":
        body = _encoded([as_csv.tallies_csv(tally, breakdown)])
    elif fmt == "json":
        body = _encoded([as_json.tallies_json(tally, shown, now, k, breakdown)])
    else:
        breakdowns = [breakdown] if breakdown else d.reports.all_breakdowns(tally)
        body = _stream_file(
            lambda out: as_xlsx.write_tallies_xlsx(out, tally, shown, now, breakdowns)
        )
    return _download(body, name, fmt)


@bp.post("/consultations/<consultation_id>/exports")
def start_export(consultation_id: str) -> Response:
    """Prepare every response, or the open-data zip, in the background."""
    d = dashboard()
    shown = published(consultation_id)
    may_export(shown)
    kind, _, fmt = request.form.get("export", "").partition(".")
    if (kind, fmt) not in CHOICES:
        abort(400, f"Unknown export {request.form.get('export', '')!r}.")
    now = d.clock()
    d.jobs.remove_expired(now)
    total = d.reports.store.response_count(shown.id)
    job, new = d.jobs.start(shown.id, kind, fmt, g.official.username, total, now)
    if new:
        start_process(d.settings, job.id)
        log.info("official %s started export %s of %s", g.official.username, job.id, shown.id)
    return redirect(url_for("officials.export", job_id=job.id), code=303)


def _job(job_id: str) -> ExportJob:
    job = dashboard().jobs.get(job_id)
    if job is None:
        abort(404, "No such export: prepared files are deleted after a day.")
    may_export(published(job.consultation_id))
    return job


@bp.get("/exports/<job_id>")
def export(job_id: str) -> str:
    job = _job(job_id)
    return render_template("officials/export.html", job=job, now=dashboard().clock(),
                           published=published(job.consultation_id))


@bp.get("/exports/<job_id>/download")
def download_export(job_id: str) -> Response:
    job = _job(job_id)
    path = dashboard().jobs.path(job)
    if job.status is not JobStatus.DONE or not path.is_file():
        abort(404, "This export is not ready.")
    return send_file(path.resolve(), mimetype=MIMETYPES[job.fmt],
                     as_attachment=True, download_name=job.filename, conditional=True,
                     max_age=0)
