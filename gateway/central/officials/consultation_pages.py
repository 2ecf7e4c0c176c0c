"""The dashboard's pages about consultations: the list of them, and one consultation's
results (a chart and a table per question, a breakdown on request), its gateways'
sync and its prepared exports."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import g, render_template, request

from gateway.central.officials.breakdowns import breakdown_choices
from gateway.central.officials.charts import bar_chart
from gateway.central.officials.web import bp, breakdown_of, dashboard, published
from gateway.central.store.tallies import GatewayHealth

STALE_AFTER = timedelta(hours=1)


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


@bp.get("/")
def index() -> str:
    reports = dashboard().reports
    found, errors = reports.consultations()
    activity = reports.activity()
    now = dashboard().clock()
    rows = [(p, p.consultation.status(now).value, activity.get(p.id)) for p in found]
    return render_template("officials/index.html", rows=rows, errors=errors)


@bp.get("/consultations/<consultation_id>")
def consultation(consultation_id: str) -> str:
    d = dashboard()
    shown = published(consultation_id)
    now = d.clock()
    c = shown.consultation
    by = request.args.get("by", "")
    embargoed = shown.embargoed(now)
    tally = breakdown = None
    if not embargoed:
        tally = d.reports.tally(shown)
        breakdown = breakdown_of(tally, by)
    health = d.reports.store.gateway_health(c.id)
    activity = d.reports.activity(c.id).get(c.id)
    return render_template(
        "officials/consultation.html",
        published=shown,
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
        jobs=d.jobs.recent(c.id) if not embargoed or g.official.is_admin else [],
        now=now,
    )
