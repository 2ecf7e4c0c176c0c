"""`civicline serve`, `worker` and `db upgrade`."""

from __future__ import annotations

from typing import Any

import click

from gateway.settings import Settings

# As config/gunicorn.conf.py: the path without its query string, which may carry phone
# numbers (a webhook configured as GET); no referrer, no user agent.
ACCESS_LOG_FORMAT = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'


def no_control_socket(cfg: Any) -> None:
    """gunicorn (25.1 and later) opens one control socket per user by default
    (~/.gunicorn/gunicorn.ctl): a gateway and a centre on one host would take it from each
    other. Ours open none; as config/gunicorn.conf.py."""
    if "control_socket_disable" in cfg.settings:
        cfg.set("control_socket_disable", True)


def say_where_data_lives(settings: Settings, *, gateway: bool = True, central: bool = True) -> None:
    """The data directory and databases a server uses (passwords hidden), before it starts."""
    from sqlalchemy.engine import make_url

    def shown(url: str) -> str:
        return make_url(url).render_as_string(hide_password=True)

    click.echo(f"data: {settings.data_dir} (secrets.env, prepared exports)")
    if gateway:
        click.echo(f"gateway database: {shown(settings.database_url)}")
    if central:
        click.echo(f"central database: {shown(settings.central_database_url)}")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--workers", default=2, show_default=True, type=int, help="Web processes.")
def serve(host: str, port: int, workers: int) -> None:
    """Run the gateway (webhooks, and the central store unless CENTRAL_URL is set)."""
    from gunicorn.app.base import BaseApplication

    from gateway.app import build_services, create_app
    from gateway.sync.trigger import NoSyncTrigger

    settings = Settings.from_env()
    say_where_data_lives(settings, central=not settings.central_url)
    # Fail here, before forking, on bad settings or consultations (and publish FLOWS_DIR to
    # the embedded centre once); no sync thread in the arbiter, the workers run their own.
    create_app(services=build_services(settings, trigger=NoSyncTrigger()))

    class Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("timeout", 20)
            self.cfg.set("accesslog", "-")
            self.cfg.set("access_log_format", ACCESS_LOG_FORMAT)
            no_control_socket(self.cfg)

        def load(self) -> object:
            return create_app(settings)

    click.echo(f"CivicLine gateway on http://{host}:{port} (webhooks: /twilio/sms, /twilio/voice)")
    Server().run()


@click.command()
@click.option("--burst", is_flag=True, help="Drain the queue, then exit.")
def worker(burst: bool) -> None:
    """Run an RQ worker for sync and outbound jobs (needs REDIS_URL)."""
    from rq import Worker

    from gateway.sync.schedule import MAINTENANCE_SECONDS, WORKER_TTL_SECONDS
    from gateway.sync.trigger import QUEUE_NAME, redis_connection

    settings = Settings.from_env()
    if not settings.redis_url:
        raise click.ClickException(
            "REDIS_URL is not set: without Redis, `civicline serve` runs jobs in-process"
        )
    connection = redis_connection(settings.redis_url)
    Worker([QUEUE_NAME], connection=connection, worker_ttl=WORKER_TTL_SECONDS,
           maintenance_interval=MAINTENANCE_SECONDS).work(burst=burst, with_scheduler=True)


@click.group()
def db() -> None:
    """The gateway's local database."""


@db.command()
def upgrade() -> None:
    """Create or upgrade the schema (the Procfile's release step)."""
    from gateway.database import make_engine
    from gateway.store.participants import LocalStore

    settings = Settings.from_env()
    LocalStore(make_engine(settings.database_url)).create_schema()
    click.echo(f"schema up to date at {settings.database_url}")
