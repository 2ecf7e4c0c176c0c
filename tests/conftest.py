"""Shared fixtures: real Redis, real SQLite files, PostgreSQL when configured, signed webhooks."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from redis import Redis
from redis.exceptions import RedisError

from gateway.app import build_services
from gateway.application.catalog_source import StaticCatalog
from gateway.application.services import Services
from gateway.consultation.catalogue import load_catalog
from gateway.settings import SECRETS_FILE, Settings, default_data_dir
from tests.twilio_signing import TwilioClient

pytest_plugins = ["tests.live", "tests.twilio_rest", "tests.loopback_centre"]  # their fixtures

FIXTURE_FLOWS = Path(__file__).parent / "fixtures" / "flows"
# A consultation in Arabic (a language CivicLine does not ship) and English.
UNSEEN_LANGUAGE_FLOWS = FIXTURE_FLOWS / "unseen-language"
TEST_TOKEN = "test-auth-token-0123456789"
TEST_REDIS_URL = os.environ.get("REDIS_URL_TEST", "redis://127.0.0.1:6379/13")
# CI sets this so that a missing service fails the run instead of skipping tests.
REQUIRE_SERVICES = os.environ.get("CIVICLINE_REQUIRE_SERVICES") == "1"


@dataclass
class RecordingTrigger:
    """Counts sync wake-ups instead of starting a worker."""

    calls: int = 0

    def notify(self) -> None:
        self.calls += 1


@dataclass
class RecordingCallPlacer:
    """Stands in for Twilio's REST API: records each call placed; `fail` makes it refuse."""

    placed: list[dict[str, str]] = field(default_factory=list)
    fail: str | None = None

    def place_call(self, *, to: str, from_: str, url: str, status_callback: str) -> str:
        from gateway.channels.twilio_calls import CallPlacementError

        if self.fail is not None:
            raise CallPlacementError(self.fail)
        sid = f"CA{uuid.uuid4().hex}"
        self.placed.append(
            {"sid": sid, "to": to, "from_": from_, "url": url, "status_callback": status_callback}
        )
        return sid


@dataclass
class RecordingScheduler:
    """Records call-back wake-ups (their delays) instead of running a placer thread."""

    delays: list[float] = field(default_factory=list)

    def notify(self, delay: float = 0.0) -> None:
        self.delays.append(delay)


@dataclass
class GatewayHarness:
    services: Services
    client: TwilioClient
    trigger: RecordingTrigger = field(default_factory=RecordingTrigger)
    placer: RecordingCallPlacer = field(default_factory=RecordingCallPlacer)
    scheduler: RecordingScheduler = field(default_factory=RecordingScheduler)


def _service_missing(what: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (CIVICLINE_REQUIRE_SERVICES=1) but unreachable")
    pytest.skip(f"{what} unreachable")


@pytest.fixture(autouse=True, scope="session")
def _no_default_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """CLI and subprocess tests never write the developer's data directory (the default
    DATA_DIR, Flask's instance folder, or a var/ of earlier versions).

    A test run leaving central.db behind would make the next `civicline serve` publish
    into someone else's consultations, and one leaving secrets.env would hand the
    developer's installation a test's secrets.
    """
    base = tmp_path_factory.mktemp("default-databases")
    patch = pytest.MonkeyPatch()
    patch.setenv("DATABASE_URL", f"sqlite:///{base / 'civicline.db'}")
    patch.setenv("CENTRAL_DATABASE_URL", f"sqlite:///{base / 'central.db'}")
    patch.setenv("DATA_DIR", str(base))  # secrets.env, generated when secrets are unset
    before = _var_files()
    yield
    patch.undo()
    # A test building Settings(...) itself, or reading Settings.from_env() from a mapping of
    # its own, gets the default data directory, not the variables above: catch it rather
    # than leave files behind.
    written = sorted(name for name, stamp in _var_files().items() if before.get(name) != stamp)
    if written:
        pytest.fail(f"tests wrote the developer's data directory: {', '.join(written)} (give "
                    "every Settings(...) a data_dir, or a database_url and "
                    "central_database_url, in tmp_path, and every Settings.from_env(mapping) "
                    "a DATA_DIR)")


def _var_files() -> dict[str, int]:
    found = {}
    for folder in (default_data_dir(), Path.cwd() / "var"):
        if folder.is_dir():
            for p in [*folder.glob("*.db*"), *folder.glob(SECRETS_FILE), *folder.glob("exports")]:
                found[str(p)] = p.stat().st_mtime_ns
    return found


@pytest.fixture(scope="session")
def redis_url() -> str:
    try:
        Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=1).flushdb()
    except RedisError:
        _service_missing(f"Redis at {TEST_REDIS_URL}")
    return TEST_REDIS_URL


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[Redis]:
    client = Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh SQLite file, and a fresh PostgreSQL schema when DATABASE_URL_TEST is set."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gateway.db'}"
        return
    url = os.environ.get("DATABASE_URL_TEST")
    if not url:
        pytest.skip("DATABASE_URL_TEST not set")
    with postgres_schema(url) as schema_url:
        yield schema_url


@contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """A URL whose connections use a new, empty schema, dropped afterwards.

    Each test (and each store within a test) gets its own schema, so gateway and
    central tables never collide and concurrent test runs don't see each other.
    """
    from sqlalchemy import create_engine, text

    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any connection failure means "not here"
        admin.dispose()
        _service_missing(f"PostgreSQL at {url} ({exc.__class__.__name__})")
    separator = "&" if "?" in url else "?"
    try:
        yield f"{url}{separator}options=-csearch_path%3D{name}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        twilio_auth_token=TEST_TOKEN,
        database_url=f"sqlite:///{tmp_path / 'gateway.db'}",
        central_database_url=f"sqlite:///{tmp_path / 'central.db'}",
        flows_dir=FIXTURE_FLOWS,
        pseudonym_key="test-pseudonym-key-0123456789",
    )


def make_harness(settings: Settings) -> GatewayHarness:
    from gateway.app import create_app

    trigger = RecordingTrigger()
    placer = RecordingCallPlacer()
    scheduler = RecordingScheduler()
    services = build_services(
        settings,
        catalog=StaticCatalog(load_catalog([settings.flows_dir])),
        trigger=trigger,
        call_placer=placer,
        callbacks=scheduler,
    )
    app = create_app(services=services)
    return GatewayHarness(services, TwilioClient(app.test_client(), settings.twilio_auth_token),
                          trigger, placer, scheduler)


@pytest.fixture
def gateway(settings: Settings) -> GatewayHarness:
    return make_harness(settings)
