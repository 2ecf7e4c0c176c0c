"""Mounting the officials' dashboard on an app: the central store's own, or the gateway's
when the centre is embedded."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import Flask
from sqlalchemy import Engine

from gateway.central.officials import consultation_pages, downloads, outreach_pages, sign_in
from gateway.central.officials.export_runner import exports_folder
from gateway.central.officials.outreach_desk import OutreachDesk
from gateway.central.officials.reports import Reports
from gateway.central.officials.security import configure_sessions
from gateway.central.officials.web import EXTENSION, Dashboard, bp, utcnow
from gateway.central.store.accounts import Accounts
from gateway.central.store.export_jobs import ExportJobs
from gateway.settings import Settings

# The page families: importing each adds its routes to `bp` (Flask's tutorial way).
PAGES = (sign_in, consultation_pages, downloads, outreach_pages)


def register_officials(
    app: Flask,
    central_engine: Engine,
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
) -> None:
    """Mount the dashboard on `app`, backed by the central store's `central_engine`."""
    configure_sessions(app, secret_key=settings.secret_key, production=settings.production)
    reports = Reports(central_engine, settings.small_cell_k)
    app.extensions[EXTENSION] = Dashboard(
        settings=settings,
        reports=reports,
        accounts=Accounts(central_engine),
        jobs=ExportJobs(central_engine, exports_folder(settings)),
        clock=clock,
        outreach=OutreachDesk(central_engine, reports),
    )
    app.register_blueprint(bp)
