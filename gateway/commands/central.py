"""`civicline central ...`: the central consultation store's service and administration."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from gateway.settings import Settings


@click.group()
def central() -> None:
    """The central consultation store (CENTRAL_DATABASE_URL)."""


@central.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8100, show_default=True, type=int, help="Port to listen on.")
@click.option("--workers", default=2, show_default=True, type=int, help="Web processes.")
def serve(host: str, port: int, workers: int) -> None:
    """Serve the central store's API (/api/v1) for gateways."""
    from gunicorn.app.base import BaseApplication

    from gateway.central.app import create_central_app
    from gateway.commands.server import ACCESS_LOG_FORMAT, no_control_socket, say_where_data_lives

    settings = Settings.from_env()
    say_where_data_lives(settings, gateway=False)
    create_central_app(settings)  # fail here, before forking, on a bad database URL

    class Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("timeout", 120)  # a large batch on a slow disk
            self.cfg.set("accesslog", "-")
            self.cfg.set("access_log_format", ACCESS_LOG_FORMAT)
            no_control_socket(self.cfg)

        def load(self) -> object:
            return create_central_app(settings)

    click.echo(f"CivicLine central store on http://{host}:{port} (API: /api/v1)")
    Server().run()


@central.command("add-gateway")
@click.argument("name")
@click.option("--rotate", is_flag=True, help="Replace the token of an existing gateway.")
def add_gateway(name: str, rotate: bool) -> None:
    """Issue a token for gateway NAME; it is printed once and stored only hashed."""
    from gateway.central.app import open_central_store
    from gateway.central.store.gateways import GatewayExists

    store = open_central_store(Settings.from_env())
    try:
        token = store.add_gateway(name, datetime.now(UTC), replace=rotate)
    except GatewayExists as exc:
        raise click.ClickException(f"{exc}; use --rotate to replace it") from exc
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.engine.dispose()
    click.echo(token)
    click.echo(
        f"Token for gateway {name!r}: set CENTRAL_TOKEN to it on that gateway. It is shown "
        "only now; the centre keeps only its SHA-256.",
        err=True,
    )


@central.command()
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
def publish(files: tuple[Path, ...]) -> None:
    """Publish consultation FILES (YAML) to the centre; gateways fetch them on sync."""
    from gateway.central.app import open_central_store
    from gateway.central.store.consultations import PublishRefused
    from gateway.consultation.catalogue import parse_consultation
    from gateway.consultation.reading import FlowsInvalid

    store = open_central_store(Settings.from_env())
    failed = False
    try:
        for path in files:
            try:
                text = path.read_text(encoding="utf-8")
                # The rules for new definitions too, as `flows check` applies them; the
                # store checks only what every stored definition must meet.
                parse_consultation(text, str(path), authoring=True)
                outcome = store.publish(text, str(path), datetime.now(UTC))
            except FlowsInvalid as exc:
                failed = True
                for error in exc.errors:
                    click.echo(str(error), err=True)
                continue
            except (PublishRefused, UnicodeDecodeError) as exc:
                failed = True
                click.echo(str(exc), err=True)
                continue
            if outcome.changed:
                click.echo(f"{path}: published {outcome.id} version {outcome.version}")
            else:
                click.echo(f"{path}: {outcome.id} version {outcome.version} is already this "
                           "text")
    finally:
        store.engine.dispose()
    if failed:
        raise SystemExit(1)


@central.command()
def gateways() -> None:
    """List gateways: last contact, newest event, backlog and quarantine they reported."""
    from gateway.central.app import open_central_store
    from gateway.commands.reading import require_database

    settings = Settings.from_env()
    require_database(settings, settings.central_database_url, "CENTRAL_DATABASE_URL")
    store = open_central_store(settings)
    try:
        rows = store.gateways()
    finally:
        store.engine.dispose()
    if not rows:
        click.echo("no gateways yet: `civicline central add-gateway NAME`")
        return

    def when(moment: datetime | None) -> str:
        return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "never"

    for g in rows:
        click.echo(
            f"{g.name}: last contact {when(g.last_contact_at)}, newest event "
            f"{when(g.newest_event_at)}, backlog {g.backlog if g.backlog is not None else '?'}"
            f", quarantined {g.quarantined or 0}"
        )
