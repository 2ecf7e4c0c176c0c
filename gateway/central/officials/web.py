"""The officials' dashboard at /officials/: its blueprint and what every page shares.

Server-rendered and usable without JavaScript. Every page but sign-in needs a signed-in
official, that is a session cookie whose session is still open in the central store
(signing out ends it there); every POST carries the session's CSRF token; results of an
embargoed consultation stay hidden until it closes, and only administrators can export
them.

The pages themselves are in a module per family, each adding its routes to `bp`:
signing in and out (sign_in.py), the consultations and a consultation's page
(consultation_pages.py), downloads of tallies and prepared exports (downloads.py),
outreach (outreach_pages.py).
`register_officials` (mount.py) keeps what they need in `app.extensions` and mounts
the blueprint.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.exceptions import HTTPException

from gateway.central.officials.breakdowns import Breakdown
from gateway.central.officials.outreach_desk import OutreachDesk
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
    csrf_token,
    secure_headers,
)
from gateway.central.officials.tallies import ConsultationTally
from gateway.central.store.accounts import Accounts, Official
from gateway.central.store.export_jobs import ExportJobs
from gateway.settings import Settings

SESSION_KEY = "officials.session"  # the session id; its record says who is signed in
OPEN_ENDPOINTS = frozenset({"officials.sign_in", "officials.static"})
EXTENSION = "civicline.officials"  # the app.extensions key of the dashboard's Dashboard

bp = Blueprint(
    "officials",
    __name__,
    url_prefix=OFFICIALS_PREFIX,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Dashboard:
    """What the pages of one app need: its settings, the central store, the clock."""

    settings: Settings
    reports: Reports
    accounts: Accounts
    jobs: ExportJobs
    clock: Callable[[], datetime]
    outreach: OutreachDesk


def dashboard() -> Dashboard:
    """The Dashboard of the app serving this request."""
    return current_app.extensions[EXTENSION]


def when(moment: datetime | None) -> str:
    return "never" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


# --- what every page shares ---------------------------------------------------------------


@bp.context_processor
def _context() -> dict[str, object]:
    return {
        "official": g.get("official"),
        "csrf_field": CSRF_FIELD,
        "csrf_token": csrf_token,
        "when": when,
        "k": dashboard().settings.small_cell_k,
    }


@bp.before_request
def _guard() -> Response | None:
    if request.method == "POST":
        check_csrf()
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    session_id = session.get(SESSION_KEY)
    d = dashboard()
    official = d.accounts.session_official(session_id, d.clock()) if session_id else None
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


@bp.errorhandler(HTTPException)
def _error(error: HTTPException) -> Response:
    body = render_template("officials/error.html", error=error)
    return Response(body, status=error.code or 500)


def published(consultation_id: str) -> Published:
    """The published consultation, or the error page (404, or 500 if it does not parse)."""
    try:
        return dashboard().reports.consultation(consultation_id)
    except UnknownConsultation:
        abort(404, f"No published consultation {consultation_id!r}.")
    except UnreadableConsultation as exc:
        abort(500, f"The published definition does not validate: {exc}")


def may_export(consultation: Published) -> None:
    """403 unless the signed-in official may export this consultation's results now."""
    official: Official = g.official
    if consultation.embargoed(dashboard().clock()) and not official.is_admin:
        abort(
            403,
            "Results of this consultation are under embargo until it closes "
            f"({when(consultation.consultation.closes)}); only an administrator can "
            "export them before then.",
        )


def breakdown_of(tally: ConsultationTally, by: str | None) -> Breakdown | None:
    """The breakdown asked for with ?by=, none without it, 400 for one that cannot be."""
    if not by:
        return None
    try:
        return dashboard().reports.breakdown(tally, by)
    except ValueError:
        abort(400, f"Tallies cannot be broken down by {by!r}.")
