"""The dashboard's Outreach pages: every outreach and a form to define one; one outreach
with what it sends, the gateways' preview (summed), their progress, and the buttons that
start, pause and cancel it.

A form with problems comes back with every value as entered and each problem listed (400),
so nothing typed is lost."""

from __future__ import annotations

import logging

from flask import Response, abort, g, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from gateway.central.officials.outreach_desk import EXCLUSION_REASONS
from gateway.central.officials.outreach_planning import (
    CHANNELS,
    DEFAULT_HOURS,
    PARTICIPANTS,
    OutreachInvalid,
    OutreachRequest,
)
from gateway.central.officials.web import bp, dashboard
from gateway.central.store.outreach import (
    COUNT_STATES,
    TRANSITIONS,
    Outreach,
    OutreachStatus,
    StatusRefused,
    UnknownOutreach,
)
from gateway.consultation.outreach_texts import KINDS

log = logging.getLogger(__name__)

ACTIONS = ("start", "pause", "cancel")


def request_from(form: MultiDict[str, str]) -> OutreachRequest:
    """What the form asks for; languages and regions are comma-separated."""
    consultation_id = form.get("consultation", "").strip()
    texts = {
        key.removeprefix("text_"): value
        for key, value in form.items()
        if key.startswith("text_") and value.strip()
    }
    return OutreachRequest(
        consultation_id=consultation_id,
        kind=form.get("kind", ""),
        channels=form.getlist("channels"),
        starts_at=form.get("starts_at", ""),
        ends_at=form.get("ends_at", ""),
        source=form.get("source", "participants"),
        participants=form.get("participants", ""),
        contact_list=form.get("list", ""),
        languages=_words(form.get("languages", "")),
        regions=[r for r in form.get("regions", "").split(",") if r.strip()],
        hours_from=form.get("hours_from", ""),
        hours_to=form.get("hours_to", ""),
        texts=texts,
    )


def _words(text: str) -> list[str]:
    return [w for w in text.replace(",", " ").split() if w]


def _list_page(form: MultiDict[str, str] | None = None, problems: list[str] | None = None,
               status: int = 200) -> Response:  # fmt: skip
    d = dashboard()
    found, _errors = d.reports.consultations()
    languages = sorted({lang for p in found for lang in p.consultation.languages})
    body = render_template(
        "officials/outreach.html",
        outreach=d.outreach.store.all(),
        consultations=found,
        languages=languages,
        form=form or MultiDict(),
        problems=problems or [],
        kinds=KINDS,
        channels=CHANNELS,
        participants=PARTICIPANTS,
        default_hours=DEFAULT_HOURS,
    )
    return Response(body, status=status)


@bp.get("/outreach")
def outreach_list() -> Response:
    return _list_page()


@bp.post("/outreach")
def outreach_create() -> Response:
    d = dashboard()
    try:
        made = d.outreach.create(request_from(request.form), g.official.username, d.clock())
    except OutreachInvalid as exc:
        return _list_page(request.form, exc.problems, status=400)
    log.info("official %s defined outreach %s (%s of %s)", g.official.username, made.id,
             made.kind, made.consultation_id)  # fmt: skip
    return redirect(url_for("officials.outreach_page", outreach_id=made.id), code=303)


def _outreach(outreach_id: str) -> Outreach:
    found = dashboard().outreach.store.get(outreach_id)
    if found is None:
        abort(404, f"No outreach {outreach_id!r}.")
    return found


def _page(outreach: Outreach, problems: list[str] | None = None, status: int = 200) -> Response:
    d = dashboard()
    progress = d.outreach.progress(outreach.id)
    body = render_template(
        "officials/outreach_one.html",
        o=outreach,
        preview=d.outreach.preview(outreach.id),
        progress=progress,
        states=COUNT_STATES,
        reasons=EXCLUSION_REASONS,
        problems=problems or [],
        actions=[a for a in ACTIONS if _allowed(outreach, a)],
    )
    return Response(body, status=status)


def _allowed(outreach: Outreach, action: str) -> bool:
    wanted = {"start": "started", "pause": "paused", "cancel": "cancelled"}[action]
    return OutreachStatus(wanted) in TRANSITIONS[outreach.status]


@bp.get("/outreach/<outreach_id>")
def outreach_page(outreach_id: str) -> Response:
    return _page(_outreach(outreach_id))


@bp.post("/outreach/<outreach_id>/<action>")
def outreach_action(outreach_id: str, action: str) -> Response:
    if action not in ACTIONS:
        abort(404)
    d = dashboard()
    outreach = _outreach(outreach_id)
    act = {"start": d.outreach.start, "pause": d.outreach.pause, "cancel": d.outreach.cancel}
    try:
        changed = act[action](outreach_id, d.clock())
    except OutreachInvalid as exc:
        return _page(outreach, exc.problems, status=400)
    except StatusRefused as exc:
        return _page(outreach, [str(exc)], status=400)
    except UnknownOutreach:
        abort(404, f"No outreach {outreach_id!r}.")
    log.info("official %s: outreach %s %s (version %d)", g.official.username, changed.id,
             changed.status.value, changed.version)  # fmt: skip
    return redirect(url_for("officials.outreach_page", outreach_id=outreach_id), code=303)
