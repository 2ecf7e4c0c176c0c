"""`civicline outreach create|preview|start|pause|cancel|status`: outreach defined at the
centre (CENTRAL_DATABASE_URL), as on the dashboard's Outreach page and with its rules
(gateway/central/officials/outreach_planning.py). Gateways pick it up at their next sync."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime

import click

from gateway.settings import Settings


def _now() -> datetime:
    return datetime.now(UTC)


def _desk():  # type: ignore[no-untyped-def]
    from gateway.central.officials.outreach_desk import OutreachDesk
    from gateway.central.officials.reports import Reports
    from gateway.central.store.central_store import CentralStore
    from gateway.database import make_engine

    settings = Settings.from_env()
    engine = make_engine(settings.central_database_url)
    click.get_current_context().call_on_close(engine.dispose)
    CentralStore(engine).create_schema()  # a store from before outreach gets its tables
    return OutreachDesk(engine, Reports(engine, settings.small_cell_k))


def _fail(problems: list[str]) -> click.ClickException:
    return click.ClickException("the outreach was not saved:\n  " + "\n  ".join(problems))


def _texts(pairs: tuple[str, ...]) -> dict[str, str]:
    texts = {}
    for pair in pairs:
        language, sep, text = pair.partition("=")
        if not sep or not language.strip():
            raise click.BadParameter(f"{pair!r}: expected LANGUAGE=TEXT", param_hint="--text")
        texts[language.strip()] = text
    return texts


def _show(o) -> None:  # type: ignore[no-untyped-def]
    f = o.fields
    audience = dict(f.audience)
    who = (f"contact list {audience['list']}" if audience["source"] == "contacts"
           else f"participants: {audience['participants']}")  # fmt: skip
    click.echo(f"{o.id} version {o.version}: {o.kind} for {o.consultation_id}, {o.status.value}")
    click.echo(f"  audience: {who}; languages: {', '.join(audience['languages'] or ['all'])}; "
               f"regions: {', '.join(audience['regions'] or ['all'])}")  # fmt: skip
    click.echo(f"  channels: {', '.join(f.channels)}; {f.starts_at.isoformat()} to "
               f"{f.ends_at.isoformat()}, {f.hours_from}-{f.hours_to} {f.timezone}")  # fmt: skip
    for language, text in f.texts.items():
        click.echo(f"  {language}: {text}")


@click.group()
def outreach() -> None:
    """Invitations, reminders and results sent by the gateways (central store)."""


@outreach.command()
@click.argument("consultation")
@click.option("--kind", required=True, type=click.Choice(["invitation", "reminder", "results"]))
@click.option("--channel", "channels", multiple=True, type=click.Choice(["sms", "voice"]),
              help="sms (default), voice, or both (give it twice).")  # fmt: skip
@click.option("--starts", required=True, help="Start, ISO 8601 (e.g. 2026-12-03T08:00); "
              "without an offset, in the consultation's time zone.")  # fmt: skip
@click.option("--ends", required=True, help="End, as --starts.")
@click.option("--audience", "source", default="participants", show_default=True,
              type=click.Choice(["participants", "contacts"]))  # fmt: skip
@click.option("--participants", default="", type=click.Choice(["", "all", "completed",
              "not_completed"]), help="Which participants (default all; a reminder: "
              "not_completed).")  # fmt: skip
@click.option("--list", "contact_list", default="", help="Contact list (--audience contacts).")
@click.option("--language", "languages", multiple=True, help="Only this language (repeatable).")
@click.option("--region", "regions", multiple=True, help="Only this region (repeatable).")
@click.option("--hours-from", default="", help="Local time sending starts each day [08:00].")
@click.option("--hours-to", default="", help="Local time sending stops each day [20:00].")
@click.option("--text", "texts", multiple=True, metavar="LANG=TEXT",
              help="A text instead of the consultation's own (repeatable).")  # fmt: skip
@click.option("--by", default="", help="Who defines it (default: your user name).")
def create(consultation: str, kind: str, channels: tuple[str, ...], starts: str, ends: str,
           source: str, participants: str, contact_list: str, languages: tuple[str, ...],
           regions: tuple[str, ...], hours_from: str, hours_to: str, texts: tuple[str, ...],
           by: str) -> None:  # fmt: skip
    """Define an outreach for CONSULTATION, as a draft: nothing is sent until `start`."""
    from gateway.central.officials.outreach_planning import OutreachInvalid, OutreachRequest

    request = OutreachRequest(
        consultation_id=consultation, kind=kind, channels=channels or ("sms",),
        starts_at=starts, ends_at=ends, source=source, participants=participants,
        contact_list=contact_list, languages=languages, regions=regions,
        hours_from=hours_from, hours_to=hours_to, texts=_texts(texts),
    )  # fmt: skip
    try:
        made = _desk().create(request, by or getpass.getuser(), _now())
    except OutreachInvalid as exc:
        raise _fail(exc.problems) from exc
    _show(made)
    click.echo(f"a draft: gateways preview it at their next sync; "
               f"`civicline outreach preview {made.id}`, then `start {made.id}`")  # fmt: skip


def _change(action: str, outreach_id: str) -> None:
    from gateway.central.officials.outreach_planning import OutreachInvalid
    from gateway.central.store.outreach import StatusRefused, UnknownOutreach

    desk = _desk()
    act = {"start": desk.start, "pause": desk.pause, "cancel": desk.cancel}[action]
    try:
        changed = act(outreach_id, _now())
    except (StatusRefused, UnknownOutreach) as exc:
        raise click.ClickException(str(exc)) from exc
    except OutreachInvalid as exc:
        raise click.ClickException("; ".join(exc.problems)) from exc
    click.echo(f"{changed.id} is {changed.status.value} (version {changed.version}); "
               "gateways follow at their next sync")  # fmt: skip


@outreach.command()
@click.argument("outreach_id")
def start(outreach_id: str) -> None:
    """Start (or resume) sending OUTREACH_ID."""
    _change("start", outreach_id)


@outreach.command()
@click.argument("outreach_id")
def pause(outreach_id: str) -> None:
    """Pause OUTREACH_ID: gateways stop within one send batch."""
    _change("pause", outreach_id)


@outreach.command()
@click.argument("outreach_id")
def cancel(outreach_id: str) -> None:
    """Cancel OUTREACH_ID for good."""
    _change("cancel", outreach_id)


def _require(desk, outreach_id: str):  # type: ignore[no-untyped-def]
    found = desk.store.get(outreach_id)
    if found is None:
        raise click.ClickException(f"no outreach {outreach_id!r}")
    return found


@outreach.command()
@click.argument("outreach_id")
def preview(outreach_id: str) -> None:
    """What OUTREACH_ID would send: the gateways' latest previews, summed."""
    desk = _desk()
    _show(_require(desk, outreach_id))
    p = desk.preview(outreach_id)
    if not p.gateways:
        click.echo("no gateway has reported a preview yet (they do at their next sync)")
        return
    click.echo(f"from {p.gateways} gateway(s): {p.total} recipients, {p.per_message} "
               f"segment(s) per message ({p.encoding}), {p.segments} segments in all")  # fmt: skip
    for (language, channel), count in p.recipients.items():
        click.echo(f"  {language} {channel}: {count}")
    for reason, count in p.excluded.items():
        click.echo(f"  excluded, {reason.replace('_', ' ')}: {count}")


@outreach.command()
@click.argument("outreach_id", required=False)
def status(outreach_id: str | None) -> None:
    """Every outreach; or the progress of OUTREACH_ID per gateway."""
    from gateway.central.store.outreach import COUNT_STATES

    desk = _desk()
    if outreach_id is None:
        found = desk.store.all()
        if not found:
            click.echo("no outreach yet: `civicline outreach create CONSULTATION ...`")
        for o in found:
            click.echo(f"{o.id}  {o.kind:<10}  {o.consultation_id}  {o.status.value} "
                       f"(version {o.version})")  # fmt: skip
        return
    _show(_require(desk, outreach_id))
    progress = desk.progress(outreach_id)
    columns = (*COUNT_STATES, "answered")
    click.echo("gateway  " + "  ".join(columns))
    for r in progress.reports:
        counts = [*(r.counts.get(state, 0) for state in COUNT_STATES), r.answered]
        click.echo(f"{r.gateway}  " + "  ".join(str(n) for n in counts))
    totals = progress.totals
    click.echo("all  " + "  ".join(str(totals[c]) for c in columns))
