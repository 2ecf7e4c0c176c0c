"""The central store as its own web service (`civicline central serve`, Procfile `central`)."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from gateway.central import api, outreach_api  # noqa: F401 (outreach_api adds routes to api)
from gateway.central.officials.mount import register_officials
from gateway.central.store.central_store import CentralStore
from gateway.database import ping
from gateway.settings import Settings

log = logging.getLogger(__name__)


def open_central_store(settings: Settings) -> CentralStore:
    store = CentralStore.from_url(
        settings.central_database_url, synchronous=settings.sqlite_synchronous
    )
    store.create_schema()
    return store


def register_central(app: Flask, store: CentralStore) -> None:
    """Mount the gateway API (/api/v1) on `app`, backed by `store`."""
    app.extensions[api.EXTENSION] = store
    app.register_blueprint(api.blueprint)


def create_central_app(
    settings: Settings | None = None, store: CentralStore | None = None
) -> Flask:
    settings = settings or Settings.from_env()
    store = store or open_central_store(settings)
    app = Flask(__name__)
    app.config["SECRET_KEY"] = settings.secret_key
    # Every route's body cap; the gateway API raises its own (gateway.central.api).
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    register_central(app, store)
    register_officials(app, store.engine, settings)  # the dashboard at /officials/

    @app.get("/healthz")
    def health() -> Response:
        ping(store.engine)
        return jsonify(status="ok", consultations=len(store.consultations()))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        response = jsonify(error=error.name, detail=error.description)
        response.status_code = error.code or 500
        return response

    return app
