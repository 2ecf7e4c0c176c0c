"""`civicline export tallies|responses|open-data` and
`civicline officials add|list|remove|reset-password`.

Both read CENTRAL_DATABASE_URL. Exports from the command line are administrator
actions: a results embargo hides results from the dashboard, not from these.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import click

from gateway.commands.reading import require_database
from gateway.settings import Settings


def _now() -> datetime:
    return datetime.now(UTC)


def _reports(settings: Settings):  # type: ignore[no-untyped-def]
    from gateway.central.officials.reports import Reports
    from gateway.database import make_engine

    require_database(settings, settings.central_database_url, "CENTRAL_DATABASE_URL")
    engine = make_engine(settings.central_database_url)
    click.get_current_context().call_on_close(engine.dispose)
    reports = Reports(engine, settings.small_cell_k)
    if not reports.store.has_tables():
        raise click.ClickException(
            f"no central store at {settings.central_database_url}: it has no events table "
            "(is CENTRAL_DATABASE_URL right?)"
        )
    from gateway.central.store.central_store import CentralStore

    CentralStore(engine).create_schema()  # a store from before `final_states` gets them
    return reports


def _published(reports, consultation_id: str):  # type: ignore[no-untyped-def]
    from gateway.central.officials.reports import UnknownConsultation, UnreadableConsultation

    try:
        return reports.consultation(consultation_id)
    except UnknownConsultation:
        known = ", ".join(row.id for row in reports.store.published()) or "none"
        raise click.ClickException(
            f"no published consultation {consultation_id!r} (published: {known})"
        ) from None
    except UnreadableConsultation as exc:
        raise click.ClickException(f"the published definition does not validate: {exc}") from exc


@contextmanager
def _output(path: Path | None, *, binary_format: bool) -> Iterator[IO[bytes]]:
    """The file to write (replaced only once complete), or standard output."""
    if path is None:
        stdout = sys.stdout.buffer
        if binary_format and stdout.isatty():
            raise click.ClickException("refusing to write binary data to a terminal: use --output")
        yield stdout
        stdout.flush()
        return
    partial = path.with_name(path.name + ".part")
    try:
        with partial.open("wb") as out:
            yield out
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _write_text(out: IO[bytes], chunks: Iterable[str]) -> None:
    for chunk in chunks:
        out.write(chunk.encode("utf-8"))


def _done(path: Path | None, what: str) -> None:
    if path is not None:
        click.echo(f"wrote {what} to {path}", err=True)


FORMAT = click.option(
    "--format", "fmt", type=click.Choice(["csv", "xlsx", "json"]), default="csv",
    show_default=True, help="File format.",
)  # fmt: skip
OUTPUT = click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: standard output).",
)  # fmt: skip


@click.group()
def export() -> None:
    """Export a consultation's results from the central store (CENTRAL_DATABASE_URL).

    An administrator's action: embargoed results are exported too.
    """


@export.command()
@click.argument("consultation")
@FORMAT
@click.option("--by", default="", help="Break down by a question id, 'region' or 'channel'.")
@OUTPUT
def tallies(consultation: str, fmt: str, by: str, output: Path | None) -> None:
    """Tallies of CONSULTATION: per question and answer, by channel, with percentages.

    With --by, per group of a breakdown instead (counts below SMALL_CELL_K shown as <k).
    JSON: {"consultation", "questions": [{"id", "options": [{"id", "sms", "voice",
    "total", "percent"}], "unparsed", "skipped", "no_answer", "breakdown"?}], ...}.
    """
    from gateway.central.officials.breakdowns import breakdown_choices
    from gateway.central.officials.exports import as_csv, as_json, as_xlsx

    settings = Settings.from_env()
    reports = _reports(settings)
    published = _published(reports, consultation)
    tally = reports.tally(published)
    choices = breakdown_choices(published.consultation)
    if by and by not in {c.key for c in choices}:
        raise click.BadParameter(
            f"{by!r}: choose one of " + ", ".join(c.key for c in choices), param_hint="--by"
        )
    breakdown = reports.breakdown(tally, by) if by else None
    now = _now()
    with _output(output, binary_format=fmt == "xlsx") as out:
        if fmt == "csv":
            _write_text(out, [as_csv.tallies_csv(tally, breakdown)])
        elif fmt == "json":
            _write_text(out, [as_json.tallies_json(tally, published, now, reports.k, breakdown)])
        else:
            breakdowns = [breakdown] if breakdown else reports.all_breakdowns(tally)
            as_xlsx.write_tallies_xlsx(out, tally, published, now, breakdowns)
    _done(output, f"tallies of {consultation}")


@export.command()
@click.argument("consultation")
@FORMAT
@OUTPUT
def responses(consultation: str, fmt: str, output: Path | None) -> None:
    """Every response event of CONSULTATION, one row each, with whether it is counted.

    Columns: event_id, pseudonym, question, status, answer_id, answer_text, channel,
    language, answered_at, region, gateway, counted.
    """
    from gateway.central.officials.exports import as_csv, as_json, as_xlsx

    reports = _reports(Settings.from_env())
    published = _published(reports, consultation)
    rows = reports.responses(published)
    with _output(output, binary_format=fmt == "xlsx") as out:
        if fmt == "csv":
            _write_text(out, as_csv.responses_csv(published, rows))
        elif fmt == "json":
            _write_text(out, as_json.responses_json(published, rows))
        else:
            as_xlsx.write_responses_xlsx(out, published, rows)
    _done(output, f"responses of {consultation}")


@export.command("open-data")
@click.argument("consultation")
@OUTPUT
def open_data(consultation: str, output: Path | None) -> None:
    """A zip to publish: responses and tallies as CSV, the consultation, a README and
    SHA256SUMS (check with `sha256sum -c SHA256SUMS` in the unzipped folder).

    Its participant ids are new with every zip and match nothing else; event ids and
    times of day are left out (responses carry the UTC day)."""
    from gateway.central.officials.exports.open_data import write_open_data

    reports = _reports(Settings.from_env())
    published = _published(reports, consultation)
    tally = reports.tally(published)
    breakdowns = reports.all_breakdowns(tally)
    with _output(output, binary_format=True) as out:
        sums = write_open_data(
            out,
            published,
            tally,
            breakdowns,
            lambda salt: reports.responses(published, release_salt=salt),
            _now(),
            reports.k,
        )
    _done(output, f"{len(sums)} files and SHA256SUMS of {consultation}")


@click.group()
def officials() -> None:
    """Officials who may sign in to the dashboard at /officials/ (central store)."""


def _accounts(settings: Settings, *, reading: bool = False):  # type: ignore[no-untyped-def]
    from gateway.central.store.accounts import Accounts
    from gateway.database import make_engine

    if reading:
        require_database(settings, settings.central_database_url, "CENTRAL_DATABASE_URL")
    engine = make_engine(settings.central_database_url)
    click.get_current_context().call_on_close(engine.dispose)
    accounts = Accounts(engine)
    accounts.create_tables()  # the first official, or a store from before sessions were kept
    return accounts


def _new_password(password_stdin: bool) -> str:
    """The new password; typed, it is checked against the rule before it is asked again."""
    from gateway.central.store.accounts import MIN_PASSWORD_LENGTH, AccountError, check_password

    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")

    def checked(value: str) -> str:
        try:
            check_password(value)
        except AccountError as exc:
            raise click.UsageError(str(exc)) from exc
        return value

    return click.prompt(f"Password (at least {MIN_PASSWORD_LENGTH} characters)",
                        hide_input=True, confirmation_prompt=True, value_proc=checked)


def _sessions(n: int) -> str:
    return f"ended {n} open session{'' if n == 1 else 's'}"


PASSWORD_STDIN = click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input."
)


@officials.command()
@click.argument("name")
@click.option("--admin", is_flag=True, help="May export embargoed results.")
@PASSWORD_STDIN
def add(name: str, admin: bool, password_stdin: bool) -> None:
    """Create the official NAME; the password is asked for twice, or read from stdin."""
    from gateway.central.store.accounts import AccountError

    settings = Settings.from_env()
    password = _new_password(password_stdin)
    accounts = _accounts(settings)
    try:
        official = accounts.add(name, password, admin=admin, now=_now())
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    role = "administrator" if official.is_admin else "official"
    click.echo(f"added {role} {official.username}")


@officials.command("list")
def list_officials() -> None:
    """Every official: username, role, when added (UTC) and open dashboard sessions."""
    accounts = _accounts(Settings.from_env(), reading=True)
    found = accounts.list_officials(_now())
    if not found:
        click.echo("no officials yet: add one with `civicline officials add NAME`")
        return
    rows = [("username", "role", "added (UTC)", "open sessions")] + [
        (
            o.username,
            "administrator" if o.is_admin else "official",
            o.created_at.strftime("%Y-%m-%d %H:%M"),
            str(o.open_sessions),
        )
        for o in found
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


@officials.command()
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def remove(name: str, yes: bool) -> None:
    """Remove the official NAME: they can no longer sign in, and their open dashboard
    sessions end at once."""
    from gateway.central.store.accounts import AccountError

    accounts = _accounts(Settings.from_env())
    try:
        official = accounts.require(name)
        if not yes:
            role = "administrator" if official.is_admin else "official"
            click.confirm(f"Remove {role} {official.username}?", abort=True)
        ended = accounts.remove(official.username, _now())
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"removed official {official.username}; {_sessions(ended)}")


@officials.command("reset-password")
@click.argument("name")
@PASSWORD_STDIN
def reset_password(name: str, password_stdin: bool) -> None:
    """Give the official NAME a new password (asked for twice, or read from stdin), end
    their open dashboard sessions and lift a sign-in lockout of their name."""
    from gateway.central.store.accounts import AccountError

    accounts = _accounts(Settings.from_env())
    try:
        official = accounts.require(name)  # before asking for a password
        password = _new_password(password_stdin)
        ended = accounts.reset_password(official.username, password, _now())
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"new password for {official.username}; {_sessions(ended)}")
