"""`civicline contacts import|lists`: contact lists for outreach, kept on this gateway."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from gateway.application.contact_import import ContactFileInvalid, read_contacts
from gateway.application.services import open_local_store
from gateway.settings import Settings
from gateway.store.contacts import ContactStore


@click.group()
def contacts() -> None:
    """Contact lists that outreach may invite (numbers stay on this gateway)."""


@contacts.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--list", "list_name", required=True, help="The list's name.")
@click.option("--basis", required=True,
              help="Why these people may be contacted (their consent, its date and form).")
@click.option("--skip-invalid", is_flag=True,
              help="Import the good rows even when some are bad (they are listed).")
def import_contacts(file: Path, list_name: str, basis: str, skip_invalid: bool) -> None:
    """Import FILE (CSV: phone, language, optional region) into a contact list."""
    if not basis.strip():
        raise click.UsageError("--basis must say why these people may be contacted")
    if not list_name.strip() or len(list_name) > 64:
        raise click.UsageError("--list must be a name of 1 to 64 characters")
    settings = Settings.from_env()
    try:
        found = read_contacts(file.read_bytes(), settings.default_region,
                              settings.pseudonym_key)
    except ContactFileInvalid as exc:
        raise click.ClickException(f"{file}: {exc}") from exc
    for bad in found.bad:
        click.echo(f"{file}: {bad}", err=True)
    if found.bad and not skip_invalid:
        raise click.ClickException(
            f"{len(found.bad)} bad rows; nothing imported (fix them, or pass --skip-invalid)")
    store = ContactStore(open_local_store(settings).engine)
    new, updated = store.add(list_name, found.contacts, basis, datetime.now(UTC))
    click.echo(f"{list_name}: {new} added, {updated} updated, {found.merged} duplicates "
               f"merged, {len(found.bad)} bad rows skipped; basis: {basis}")


@contacts.command("lists")
def list_contacts() -> None:
    """Each list's name, size and consent basis (no numbers)."""
    store = ContactStore(open_local_store(Settings.from_env()).engine)
    lists = store.lists()
    if not lists:
        click.echo("no contact lists (civicline contacts import FILE.csv --list NAME "
                   "--basis ...)")
    for found in lists:
        click.echo(f"{found.name}\t{found.count} contacts\tbasis: {' | '.join(found.bases)}")
