"""The dashboard as a browser sees it, through Flask's test client: a signed-in official's
client, a clock the tests move, and what the tests count."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select
from werkzeug.test import TestResponse

from gateway.central.officials.mount import register_officials
from gateway.central.store.schema import signin_failures
from gateway.settings import Settings

CID = "survey-test"
PASSWORD = "correct horse battery"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = field(default=NOW)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Dashboard:
    app: Flask
    client: FlaskClient
    engine: Engine
    clock: Clock

    def csrf(self, path: str = "/officials/sign-in") -> str:
        page = self.client.get(path).get_data(as_text=True)
        match = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert match, page
        return match.group(1)

    def sign_in(self, username: str, password: str = PASSWORD, **kwargs: object) -> TestResponse:
        token = self.csrf()
        return self.client.post(
            "/officials/sign-in",
            data={"username": username, "password": password, "csrf_token": token},
            **kwargs,  # type: ignore[arg-type]
        )


def make_dashboard(engine: Engine, settings: Settings, clock: Clock) -> Dashboard:
    app = Flask("central-test")
    register_officials(app, engine, settings, clock=clock)
    return Dashboard(app, app.test_client(), engine, clock)


def failures(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(signin_failures)).scalar_one()
