"""`civicline flows check`."""

from __future__ import annotations

from pathlib import Path

import click

from gateway.settings import Settings


@click.group()
def flows() -> None:
    """Consultation definitions in ivr_flows/."""


@flows.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def check(paths: tuple[Path, ...]) -> None:
    """Validate consultation files (default: FLOWS_DIR); exit 1 on any error."""
    from gateway.consultation.flows_check import check as run_check
    from gateway.consultation.flows_check import format_report

    targets = list(paths) or [Settings.from_env().flows_dir]
    missing = [str(p) for p in targets if not p.exists()]
    if missing:
        raise click.ClickException(f"no such file or directory: {', '.join(missing)}")
    report = run_check(targets)
    click.echo(format_report(report))
    if report.errors:
        raise SystemExit(1)
