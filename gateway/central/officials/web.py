"""The officials' dashboard at /officials/: sign-in, consultations, results, downloads.

Server-rendered and usable without JavaScript. Every page but sign-in needs a signed-in
official, that is a session cookie whose session is still open in the central store
(signing out ends it there); every POST carries the session's CSRF token; results of an
embargoed consultation stay hidden until it closes, and only administrators can export
them.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import IO

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    g,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from sqlalchemy import Engine
from werkzeug.exceptions import HTTPException

from gateway.central.officials import exports
from gateway.central.officials.breakdowns import Breakdown, breakdown_choices
from gateway.central.officials.charts import bar_chart
from gateway.central.officials.export_runner import exports_folder, start_process
from gateway.central.officials.reports import (
    Published,
    Reports,
    UnknownConsultation,
    UnreadableConsultation,
)
from gateway.central.officials.security import (
    CSRF_FIELD,
    OFFICIALS_PREFIX,
    check_csrf,
    configure_sessions,
    csrf_token,
    secure_headers,
)
from gateway.central.officials.tallies import ConsultationTally
from gateway.central.store.accounts import Accounts, Official
from gateway.central.store.export_jobs import CHOICES, ExportJob, ExportJobs, JobStatus
from gateway.central.store.tallies import GatewayHealth
from gateway.settings import Settings

log = logging.getLogger(__name__)

SESSION_KEY = "officials.session"  # the session id; its record says who is signed in
STALE_AFTER = timedelta(hours=1)
FILE_CHUNK = 64 * 1024
OPEN_ENDPOINTS = frozenset({"officials.sign_in", "officials.static"})


def _utcnow() -> datetime:
    return datetime.now(UTC)


def when(moment: datetime | None) -> str:
    return "never" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def sync_state(health: GatewayHealth, now: datetime) -> str:
    """In words, so that it does not rest on a colour."""
    if health.last_contact_at is None:
        return "Never synced" if health.events == 0 else "Not registered"
    if now - health.last_contact_at > STALE_AFTER:
        hours = int((now - health.last_contact_at).total_seconds() // 3600)
        return f"No contact for {hours} h"
    if health.backlog:
        return "Catching up"
    return "Up to date"


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
    response = Response(body, mimetype=exports.MIMETYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def create_officials_blueprint(
    central_engine: Engine,
    settings: Settings,
    *,
    clock: Callable[[], datetime] = _utcnow,
) -> Blueprint:
    reports = Reports(central_engine, settings.small_cell_k)
    accounts = Accounts(central_engine)
    jobs = ExportJobs(central_engine, exports_folder(settings))
    k = settings.small_cell_k
    bp = Blueprint(
        "officials",
        __name__,
        url_prefix=OFFICIALS_PREFIX,
        template_folder="templates",
        static_folder="static",
        static_url_path="/static",
    )

    @bp.context_processor
    def _context() -> dict[str, object]:
        return {
            "official": g.get("official"),
            "csrf_field": CSRF_FIELD,
            "csrf_token": csrf_token,
            "when": when,
            "k": k,
        }

    @bp.before_request
    def _guard() -> Response | None:
        if request.method == "POST":
            check_csrf()
        if request.endpoint in OPEN_ENDPOINTS:
            return None
        session_id = session.get(SESSION_KEY)
        official = accounts.session_official(session_id, clock()) if session_id else None
        if official is None:
            # Never signed in, signed out (maybe from another copy of this cookie), the
            # session expired, or the official was removed or given a new password.
            session.pop(SESSION_KEY, None)
            return redirect(url_for("officials.sign_in", next=request.full_path.rstrip("?")))
        g.official = official
        return None

    @bp.after_request
    def _headers(response: Response) -> Response:
        return secure_headers(response)

    def _published(consultation_id: str) -> Published:
        try:
            return reports.consultation(consultation_id)
        except UnknownConsultation:
            abort(404, f"No published consultation {consultation_id!r}.")
        except UnreadableConsultation as exc:
            abort(500, f"The published definition does not validate: {exc}")

    def _may_export(published: Published) -> None:
        official: Official = g.official
        if published.embargoed(clock()) and not official.is_admin:
            abort(
                403,
                "Results of this consultation are under embargo until it closes "
                f"({when(published.consultation.closes)}); only an administrator can "
                "export them before then.",
            )

    def _breakdown(tally: ConsultationTally, by: str | None) -> Breakdown | None:
        if not by:
            return None
        try:
            return reports.breakdown(tally, by)
        except ValueError:
            abort(400, f"Tallies cannot be broken down by {by!r}.")

    # --- signing in and out ---------------------------------------------------------------

    @bp.route("/sign-in", methods=["GET", "POST"])
    def sign_in() -> Response | str:
        csrf_token()  # the form needs one before the first POST
        error = None
        status = 200
        username = ""
        if request.method == "POST":
            username = request.form.get("username", "")
            password = request.form.get("password", "")
            outcome = accounts.sign_in(username, password, clock())
            if outcome.official is not None:
                target = _safe_next(request.args.get("next"))
                previous = session.get(SESSION_KEY)
                session.clear()  # a fresh session (and CSRF token) for the signed-in official
                session.permanent = True
                session[SESSION_KEY] = accounts.start_session(outcome, clock(), replacing=previous)
                csrf_token()
                log.info("official %s signed in", outcome.official.username)
                return redirect(target)
            if outcome.locked_until is not None:
                minutes = max(1, -(-int((outcome.locked_until - clock()).total_seconds()) // 60))
                error = (
                    "Too many failed sign-ins for this username. Sign-in is refused for "
                    f"{minutes} more minute{'s' if minutes != 1 else ''}."
                )
                status = 429
            else:
                error = "Wrong username or password."
                status = 401
        body = render_template("officials/sign_in.html", error=error, username=username)
        return Response(body, status=status)

    @bp.post("/sign-out")
    def sign_out() -> Response:
        """End the session in the central store, not only in this browser."""
        accounts.end_session(session[SESSION_KEY])  # the guard found it
        session.clear()
        log.info("official %s signed out", g.official.username)
        return redirect(url_for("officials.sign_in"))

    # --- pages ----------------------------------------------------------------------------

    @bp.get("/")
    def index() -> str:
        published, errors = reports.consultations()
        activity = reports.activity()
        now = clock()
        rows = [(p, p.consultation.status(now).value, activity.get(p.id)) for p in published]
        return render_template("officials/index.html", rows=rows, errors=errors)

    @bp.get("/consultations/<consultation_id>")
    def consultation(consultation_id: str) -> str:
        published = _published(consultation_id)
        now = clock()
        c = published.consultation
        by = request.args.get("by", "")
        embargoed = published.embargoed(now)
        tally = breakdown = None
        if not embargoed:
            tally = reports.tally(published)
            breakdown = _breakdown(tally, by)
        health = reports.store.gateway_health(c.id)
        activity = reports.activity(c.id).get(c.id)
        return render_template(
            "officials/consultation.html",
            published=published,
            c=c,
            title=c.title[c.default_language],
            status=c.status(now).value,
            embargoed=embargoed,
            may_export=not embargoed or g.official.is_admin,
            tally=tally,
            charts={q.question.id: bar_chart(q) for q in tally.questions} if tally else {},
            breakdown=breakdown,
            by=by if breakdown else "",
            choices=breakdown_choices(c),
            gateways=[(h, sync_state(h, now)) for h in health],
            activity=activity,
            jobs=jobs.recent(c.id) if not embargoed or g.official.is_admin else [],
            now=now,
        )

    # --- downloads ------------------------------------------------------------------------

    @bp.get("/consultations/<consultation_id>/tallies.<fmt>")
    def tallies(consultation_id: str, fmt: str) -> Response:
        if fmt not in exports.FORMATS:
            abort(404)
        published = _published(consultation_id)
        _may_export(published)
        tally = reports.tally(published)
        by = request.args.get("by", "")
        breakdown = _breakdown(tally, by)
        now = clock()
        name = f"{published.id}-tallies" + (f"-by-{by}" if breakdown else "") + f".{fmt}"
        if fmt == "csv":
            body = _encoded([exports.tallies_csv(tally, breakdown)])
        elif fmt == "json":
            body = _encoded([exports.tallies_json(tally, published, now, k, breakdown)])
        else:
            breakdowns = [breakdown] if breakdown else reports.all_breakdowns(tally)
            body = _stream_file(
                lambda out: exports.write_tallies_xlsx(out, tally, published, now, breakdowns)
            )
        return _download(body, name, fmt)

    @bp.post("/consultations/<consultation_id>/exports")
    def start_export(consultation_id: str) -> Response:
        """Prepare every response, or the open-data zip, in the background."""
        published = _published(consultation_id)
        _may_export(published)
        kind, _, fmt = request.form.get("export", "").partition(".")
        if (kind, fmt) not in CHOICES:
            abort(400, f"Unknown export {request.form.get('export', '')!r}.")
        now = clock()
        jobs.remove_expired(now)
        total = reports.store.response_count(published.id)
        job, new = jobs.start(published.id, kind, fmt, g.official.username, total, now)
        if new:
            start_process(settings, job.id)
            log.info("official %s started export %s of %s", g.official.username, job.id,
                     published.id)
        return redirect(url_for("officials.export", job_id=job.id), code=303)

    def _job(job_id: str) -> ExportJob:
        job = jobs.get(job_id)
        if job is None:
            abort(404, "No such export: prepared files are deleted after a day.")
        _may_export(_published(job.consultation_id))
        return job

    @bp.get("/exports/<job_id>")
    def export(job_id: str) -> str:
        job = _job(job_id)
        return render_template("officials/export.html", job=job, now=clock(),
                               published=_published(job.consultation_id))

    @bp.get("/exports/<job_id>/download")
    def download_export(job_id: str) -> Response:
        job = _job(job_id)
        path = jobs.path(job)
        if job.status is not JobStatus.DONE or not path.is_file():
            abort(404, "This export is not ready.")
        return send_file(path.resolve(), mimetype=exports.MIMETYPES[job.fmt],
                         as_attachment=True, download_name=job.filename, conditional=True,
                         max_age=0)

    @bp.errorhandler(HTTPException)
    def _error(error: HTTPException) -> Response:
        body = render_template("officials/error.html", error=error)
        return Response(body, status=error.code or 500)

    return bp


def _safe_next(target: str | None) -> str:
    """Only a path inside the dashboard: never an open redirect to another site."""
    if target and target.startswith("/officials/") and "//" not in target and "\\" not in target:
        return target
    return url_for("officials.index")


def register_officials(
    app: Flask,
    central_engine: Engine,
    settings: Settings,
    *,
    clock: Callable[[], datetime] = _utcnow,
) -> None:
    """Mount the dashboard on the central store's app, with its session settings."""
    configure_sessions(app, secret_key=settings.secret_key, production=settings.production)
    app.register_blueprint(create_officials_blueprint(central_engine, settings, clock=clock))
