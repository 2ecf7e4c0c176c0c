"""create_app(): wires settings, store, consultations, sync and the blueprints."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from sqlalchemy import text
from werkzeug.exceptions import HTTPException

from gateway.channels import sms, status
from gateway.services import Services, build_services
from gateway.settings import Settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    if services is None:
        settings = settings or Settings.from_env()
        services = build_services(settings)
    settings = services.settings
    for warning in settings.warnings():
        log.warning("WARNING: %s", warning)

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.config["SECRET_KEY"] = settings.secret_key
    app.extensions["civicline"] = services
    app.register_blueprint(sms.blueprint)
    app.register_blueprint(status.blueprint)

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
