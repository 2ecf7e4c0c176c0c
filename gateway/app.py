"""The gateway's composition: `build_services` assembles what a gateway process holds
(store, consultations, the centre it syncs to, sync trigger, call-back scheduler) and
`create_app` (gunicorn's entry point) wires it to the channels' blueprints.

With no CENTRAL_URL the centre runs in this process: gateway/embedded_centre.py
assembles it and serves it on this app. Nothing else here knows the centre.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

from flask import Flask, Request, Response, jsonify, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from werkzeug.exceptions import HTTPException

from gateway.application.callback_scheduling import CallbackScheduler
from gateway.application.callbacks import configuration_warnings as callback_warnings
from gateway.application.callbacks import default_scheduler
from gateway.application.catalog_source import CatalogSource, CentralCatalog, StaticCatalog
from gateway.application.outreach_runner import default_scheduler as outreach_scheduler
from gateway.application.outreach_runner import progress_reports
from gateway.application.outreach_scheduling import OutreachScheduler
from gateway.application.regions import load_region_prefixes
from gateway.application.services import Services, open_local_store
from gateway.channels import outreach_status, sms, status, voice
from gateway.channels.twilio_calls import CallPlacer
from gateway.database import ping
from gateway.embedded_centre import central_link, serve_embedded_centre
from gateway.settings import Settings
from gateway.store.participants import LocalStore
from gateway.store.sync_state import SyncStateStore
from gateway.sync.link import build_syncer
from gateway.sync.runner import Syncer
from gateway.sync.trigger import (
    InProcessSyncTrigger,
    RedisSyncTrigger,
    SyncTrigger,
    redis_connection,
)

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    if services is None:
        settings = settings or Settings.from_env()
        services = build_services(settings)
    settings = services.settings
    for warning in settings.warnings() + callback_warnings(services):
        log.warning("WARNING: %s", warning)

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.config["SECRET_KEY"] = settings.secret_key
    app.session_interface = WebhookSessions()  # the embedded dashboard sets its own
    app.extensions["civicline"] = services
    app.register_blueprint(sms.blueprint)
    app.register_blueprint(status.blueprint)
    app.register_blueprint(voice.blueprint)
    app.register_blueprint(voice.audio_blueprint)
    app.register_blueprint(outreach_status.blueprint)
    serve_embedded_centre(app, services)

    @app.get("/healthz")
    def health() -> Response:
        ping(services.store.engine)
        return jsonify(status="ok", consultations=len(services.catalog.current().consultations))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        if request.path.startswith("/api/"):
            response = jsonify(error=error.name, detail=error.description)
        else:
            response = Response(f"{error.code} {error.name}: {error.description}\n",
                                mimetype="text/plain")
        response.status_code = error.code or 500
        return response

    return app


class WebhookSessions(SecureCookieSessionInterface):
    """Flask's null session for every route: opening a signed session costs each webhook
    more than a database statement, for nothing. The embedded centre's dashboard, when
    served here, replaces this with sessions for its own pages only."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:  # type: ignore[override]
        return self.make_null_session(app)


def build_services(
    settings: Settings,
    *,
    catalog: CatalogSource | None = None,
    trigger: SyncTrigger | None = None,
    call_placer: CallPlacer | None = None,
    callbacks: CallbackScheduler | None = None,
    outreach: OutreachScheduler | None = None,
) -> Services:
    """What a gateway process holds; a test (or a command) may pass its own parts."""
    store = open_local_store(settings)
    central = central_link(settings, store)
    if catalog is None:
        if settings.central_url:
            # What the centre published, as last fetched; FLOWS_DIR until the first fetch.
            catalog = CentralCatalog(SyncStateStore(store.engine), settings.flows_dir)
        else:
            catalog = StaticCatalog.from_dir(settings.flows_dir)
    syncer = build_syncer(settings, store, central)
    if trigger is None:
        if settings.redis_url:
            trigger = RedisSyncTrigger(redis_connection(settings.redis_url), settings.gateway_id)
        else:
            trigger = InProcessSyncTrigger(syncer.run, settings.sync_interval)
    services = Services(
        settings=settings,
        store=store,
        catalog=catalog,
        trigger=trigger,
        region_prefixes=load_region_prefixes(settings.regions_file),
        central=central,
        syncer=syncer,
        call_placer=call_placer,
        callbacks=callbacks,
        outreach=outreach,
    )
    if services.callbacks is None:
        services.callbacks = default_scheduler(services)
    if services.outreach is None:
        services.outreach = outreach_scheduler(services)
    if services.syncer is not None:
        services.syncer.outreach_progress = partial(
            progress_reports, store.engine, services.region_prefixes)
    return services


@contextmanager
def open_syncer(settings: Settings) -> Iterator[tuple[LocalStore, Syncer]]:
    """The local store and a sync pass towards the centre, for a job or a command;
    everything they opened is closed afterwards."""
    store = open_local_store(settings)
    central = central_link(settings, store)
    syncer = build_syncer(settings, store, central)
    syncer.outreach_progress = partial(
        progress_reports, store.engine, load_region_prefixes(settings.regions_file))
    try:
        yield store, syncer
    finally:
        syncer.close()
        central.close()
        store.engine.dispose()
