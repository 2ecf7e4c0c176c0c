"""Signing in and out of the dashboard.

A sign-in opens a session in the central store and puts only its random id in the
cookie; signing out ends that session there, so that a copy of the cookie stops
working too. Failed sign-ins are counted per username in the database
(gateway/central/store/accounts.py), so that five within 15 minutes refuse the name
across every worker.
"""

from __future__ import annotations

import logging

from flask import Response, g, redirect, render_template, request, session, url_for

from gateway.central.officials.security import csrf_token
from gateway.central.officials.web import SESSION_KEY, bp, dashboard

log = logging.getLogger(__name__)


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Response | str:
    csrf_token()  # the form needs one before the first POST
    error = None
    status = 200
    username = ""
    if request.method == "POST":
        d = dashboard()
        username = request.form.get("username", "")
        password = request.form.get("password", "")
        outcome = d.accounts.sign_in(username, password, d.clock())
        if outcome.official is not None:
            target = _safe_next(request.args.get("next"))
            previous = session.get(SESSION_KEY)
            session.clear()  # a fresh session (and CSRF token) for the signed-in official
            session.permanent = True
            session[SESSION_KEY] = d.accounts.start_session(outcome, d.clock(), replacing=previous)
            csrf_token()
            log.info("official %s signed in", outcome.official.username)
            return redirect(target)
        if outcome.locked_until is not None:
            minutes = max(1, -(-int((outcome.locked_until - d.clock()).total_seconds()) // 60))
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
    dashboard().accounts.end_session(session[SESSION_KEY])  # the guard found it
    session.clear()
    log.info("official %s signed out", g.official.username)
    return redirect(url_for("officials.sign_in"))


def _safe_next(target: str | None) -> str:
    """Only a path inside the dashboard: never an open redirect to another site."""
    if target and target.startswith("/officials/") and "//" not in target and "\\" not in target:
        return target
    return url_for("officials.index")
