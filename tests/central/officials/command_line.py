"""`civicline` as the officials' scripts run it, on the central store's database."""

from __future__ import annotations

from click.testing import CliRunner, Result

from gateway.cli import cli


def civicline(central_url: str, *args: str, k: int = 5) -> Result:
    return CliRunner().invoke(
        cli, list(args), env={"CENTRAL_DATABASE_URL": central_url, "SMALL_CELL_K": str(k)}
    )
