"""create_app(): wires settings, store, consultations, sync and the blueprints."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from sqlalchemy import text
from werkzeug.exceptions import HTTPException

from gateway.application.callbacks import configuration_warnings as callback_warnings
from gateway.application.services import Services, build_services
from gateway.central.app import register_central
from gateway.central.officials.security import RequestAwareSessionInterface
from gateway.central.officials.web import register_officials
from gateway.central.store.central_store import PublishRefused
from gateway.channels import sms, status, voice
from gateway.settings import Settings, SettingsError
from gateway.store.sync_state import SyncStateStore

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
    app.session_interface = RequestAwareSessionInterface()  # no session for webhooks
    app.extensions["civicline"] = services
    app.register_blueprint(sms.blueprint)
    app.register_blueprint(status.blueprint)
    app.register_blueprint(voice.blueprint)
    app.register_blueprint(voice.audio_blueprint)
    if services.central is not None:
        _embed_central(app, services)

    @app.get("/healthz")
    def health() -> Response:
        with services.store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
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


def _embed_central(app: Flask, services: Services) -> None:
    """No CENTRAL_URL: serve the central API here, publish FLOWS_DIR to it and make sure
    this gateway holds a token for it, so one machine works out of the box."""
    assert services.central is not None
    settings = services.settings
    register_central(app, services.central.store)
    register_officials(app, services.central.store.engine, settings)
    try:
        services.central.publish_flows(settings.flows_dir)
    except PublishRefused as exc:
        raise SettingsError(
            f"FLOWS_DIR={settings.flows_dir} cannot be published to the central store at "
            f"{settings.central_database_url}: {exc}"
        ) from exc
    services.central.gateway_token(SyncStateStore(services.store.engine))
