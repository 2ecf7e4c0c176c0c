"""What the commands that only read (exports, lists, status) share: they never create
a database, so a wrong setting or directory is an error that names the file."""

from __future__ import annotations

import click

from gateway.database import sqlite_file
from gateway.settings import Settings


def require_database(settings: Settings, url: str, variable: str) -> None:
    """Stop with a clear error, creating nothing, if `url` is a SQLite file that does
    not exist."""
    path = sqlite_file(url)
    if path is None or path.exists():
        return
    raise click.ClickException(
        f"no database at {path}: nothing to read (set {variable}, or DATA_DIR, whose "
        f"default databases are DATA_DIR/civicline.db and DATA_DIR/central.db; DATA_DIR is "
        f"{settings.data_dir})"
    )
