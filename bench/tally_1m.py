"""Tallies and a CSV export for one consultation with 1,000,000 response events.

    .venv/bin/python bench/tally_1m.py                      # SQLite, and PostgreSQL if
    DATABASE_URL_TEST=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python bench/tally_1m.py

Loads the events straight into the central store's `events` table (SQLite: executemany
in one transaction; PostgreSQL: COPY, into a schema `bench_tally` of its own) and
computes the final states from them as a store upgrade does (timed), then times, in
the same run: a plain `SELECT count(*)` over the consultation's events (the
baseline: one pass, no per-participant work), the tally (`Reports.tally`: counts per
question, answer and channel, plus the participation rates), two breakdowns, and the
responses export as CSV to a file. Each query is timed `--repeat` times; the best and
the median are printed. Data is kept in bench/out/ and reused when it matches.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, func, inspect, select, text  # noqa: E402

from gateway.central.officials.exports import as_csv  # noqa: E402
from gateway.central.officials.reports import Reports  # noqa: E402
from gateway.central.store import final_states  # noqa: E402
from gateway.central.store.schema import consultations, events, metadata  # noqa: E402
from gateway.database import make_engine  # noqa: E402

CID = "bench-1m"
PG_SCHEMA = "bench_tally"
OUT = ROOT / "bench" / "out"
DEFINITION = """\
id: bench-1m
title: {en: Benchmark consultation}
keywords: [BENCH]
languages: [en]
opens: 2026-01-01T00:00:00+00:00
closes: 2030-12-31T23:59:59+00:00
questions:
  - id: priority
    type: choice
    prompt: {en: "What first?"}
    options:
      - {id: water, label: {en: Water}}
      - {id: roads, label: {en: Roads}}
      - {id: clinics, label: {en: Clinics}}
      - {id: schools, label: {en: Schools}}
  - id: enough
    type: yes_no
    prompt: {en: "Enough water?"}
  - id: satisfaction
    type: scale
    min: 1
    max: 5
    prompt: {en: "How satisfied?"}
  - id: comment
    type: text
    optional: true
    prompt: {en: "Any comment?"}
profile:
  - id: age_band
    type: choice
    prompt: {en: "Your age?"}
    options:
      - {id: under_18, label: {en: Under 18}}
      - {id: 18_34, label: {en: 18 to 34}}
      - {id: 35_59, label: {en: 35 to 59}}
      - {id: 60_plus, label: {en: 60 or older}}
  - id: gender
    type: choice
    prompt: {en: "Your gender?"}
    options:
      - {id: woman, label: {en: Woman}}
      - {id: man, label: {en: Man}}
      - {id: other, label: {en: Another gender}}
  - id: disability
    type: yes_no
    prompt: {en: "A disability?"}
"""
STEPS: list[tuple[str, list[str] | None, bool]] = [
    ("priority", ["water", "roads", "clinics", "schools"], False),
    ("enough", ["yes", "no"], False),
    ("satisfaction", ["1", "2", "3", "4", "5"], False),
    ("comment", None, True),
    ("age_band", ["under_18", "18_34", "35_59", "60_plus"], True),
    ("gender", ["woman", "man", "other"], True),
    ("disability", ["yes", "no"], True),
]
REGIONS = ["KE Nairobi", "KE Mombasa", "KE Kisumu", "KE Nakuru", "Garissa", None]
START = datetime(2026, 3, 1, tzinfo=UTC)
COLUMNS = (
    "event_id", "consultation_id", "question_id", "pseudonym", "channel", "status", "value",
    "raw", "language", "answered_at", "region", "gateway", "received_at",
)  # fmt: skip


def generate(total: int, seed: int = 1) -> Iterator[tuple]:
    """`total` events: participants answering in turn, 10% changing an answer, some
    stopping early, skipping profile questions, or giving unreadable replies."""
    rnd = random.Random(seed)
    made = 0
    n = 0
    while made < total:
        n += 1
        pseudonym = f"{rnd.getrandbits(256):064x}"
        channel = "sms" if rnd.random() < 0.6 else "voice"
        region = rnd.choice(REGIONS)
        at = START + timedelta(seconds=n * 3)
        for question, options, skippable in STEPS:
            if rnd.random() < 0.02:
                break
            for _attempt in range(2 if rnd.random() < 0.1 else 1):
                at += timedelta(seconds=rnd.randint(5, 60))
                roll = rnd.random()
                if skippable and roll < 0.12:
                    status, value = "skipped", None
                elif roll < 0.17:
                    status, value = ("unparsed", None) if roll < 0.14 else ("no_answer", None)
                else:
                    status = "answered"
                    value = rnd.choice(options) if options else "a comment"
                yield (
                    str(uuid.UUID(int=rnd.getrandbits(128), version=4)), CID, question,
                    pseudonym, channel, status, value, value, "en", at, region, "gw-1",
                    at + timedelta(seconds=30),
                )  # fmt: skip
                made += 1
                if made >= total:
                    return


def _sqlite_time(moment: datetime) -> str:
    """SQLAlchemy's storage format for DateTime on SQLite."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def load_sqlite(path: Path, total: int) -> None:
    sql = f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    with conn:
        rows = generate(total)
        while batch := [
            (*r[:9], _sqlite_time(r[9]), r[10], r[11], _sqlite_time(r[12]))
            for _, r in zip(range(50_000), rows, strict=False)
        ]:
            conn.executemany(sql, batch)
    conn.close()


def checkpoint_sqlite(path: Path) -> None:
    """Fold the write-ahead log into the database, as SQLite's automatic checkpoints do
    in a running store; reads through a WAL of a million fresh rows are much slower."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def load_postgres(engine: Engine, total: int) -> None:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        with cursor.copy(f"COPY events ({', '.join(COLUMNS)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for row in generate(total):
                copy.write_row(row)
        raw.commit()
    finally:
        raw.close()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE events"))


def indexes_current(engine: Engine) -> bool:
    """Whether the events table has the indexes gateway/central/store/schema.py declares now."""
    have = {i["name"]: i["column_names"] for i in inspect(engine).get_indexes("events")}
    for index in events.indexes:
        only = getattr(index, "_ddl_if", None)  # Index.ddl_if(dialect=...)
        if only is not None and only.dialect not in (None, engine.dialect.name):
            continue
        if have.get(index.name) != [c.name for c in index.columns]:
            return False
    return True


def prepare(engine: Engine, total: int, load: Callable[[], None]) -> tuple[float | None, float]:
    """Make the tables and load the events unless the right number is there already
    (with the indexes of the current schema); then compute the final states from them,
    as the upgrade of a store holding events does (the receive path keeps them as
    events arrive). Returns the seconds each took (None: events reused)."""
    metadata.create_all(engine)
    if not indexes_current(engine):
        events.drop(engine)
        events.create(engine)
    with engine.connect() as conn:
        have = conn.execute(
            select(func.count()).select_from(events).where(events.c.consultation_id == CID)
        ).scalar_one()
    with engine.begin() as conn:
        conn.execute(consultations.delete())
        conn.execute(
            consultations.insert().values(
                id=CID, version=1, definition=DEFINITION, published_at=START
            )
        )
    loaded = None
    if have != total:
        with engine.begin() as conn:
            conn.execute(events.delete())
        started = time.perf_counter()
        load()
        loaded = time.perf_counter() - started
    started = time.perf_counter()
    with engine.begin() as conn:
        final_states.rebuild(conn)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE final_states"))
            conn.execute(text("VACUUM ANALYZE participants"))
    else:
        checkpoint_sqlite(Path(str(engine.url.database)))
    return loaded, time.perf_counter() - started


def timed(function: Callable[[], object], repeat: int) -> tuple[float, float, object]:
    runs = []
    result: object = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        runs.append(time.perf_counter() - started)
    return min(runs), statistics.median(runs), result


def run(label: str, engine: Engine, total: int, load: Callable[[], None], repeat: int,
        breakdowns: bool = True) -> None:
    loaded, derived = prepare(engine, total, load)
    reports = Reports(engine, small_cell_k=5)
    published = reports.consultation(CID)
    print(f"\n{label}: {total:,} events" + (
        f" (loaded in {loaded:.1f} s)" if loaded is not None else " (reused)"
    ) + f"; final states computed from them in {derived:.1f} s")

    def baseline() -> int:
        with engine.connect() as conn:
            return conn.execute(
                select(func.count()).select_from(events).where(events.c.consultation_id == CID)
            ).scalar_one()

    def csv_export() -> int:
        target = OUT / f"responses-{label.lower()}.csv"
        size = 0
        with target.open("w", encoding="utf-8") as out:
            for chunk in as_csv.responses_csv(published, reports.responses(published)):
                size += out.write(chunk)
        return size

    tally = reports.tally(published)
    measures: list[tuple[str, Callable[[], object], int]] = [
        ("baseline SELECT count(*)", baseline, repeat),
        ("tally (counts + rates)", lambda: reports.tally(published), repeat),
        ("breakdown by age_band", lambda: reports.breakdown(tally, "age_band"), repeat),
        ("breakdown by region", lambda: reports.breakdown(tally, "region"), repeat),
        ("responses CSV export", csv_export, 1),
    ]
    if not breakdowns:
        measures = [m for m in measures if not m[0].startswith("breakdown")]
    for name, function, times in measures:
        best, median, result = timed(function, times)
        extra = ""
        if name.startswith("baseline"):
            extra = f"  ({result:,} rows)"
        if name.startswith("responses"):
            extra = f"  ({total / best:,.0f} rows/s, {int(result) / 1e6:.0f} MB)"  # type: ignore[call-overload]
        print(f"  {name:<28} best {best:7.3f} s   median {median:7.3f} s{extra}")
    first = tally.questions[0]
    print(f"  check: {tally.participation.participants:,} participants; "
          f"{first.question.id}: " + ", ".join(f"{r.id}={r.counts.total:,}" for r in first.rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sqlite", type=Path, default=OUT / "tally_1m.db")
    parser.add_argument("--postgres", default=os.environ.get("DATABASE_URL_TEST", ""),
                        help="PostgreSQL URL (default: DATABASE_URL_TEST; empty: skip)")
    parser.add_argument("--schema", default=PG_SCHEMA, help="PostgreSQL schema for the data.")
    parser.add_argument("--only", choices=["sqlite", "postgresql"], help="Run one database.")
    parser.add_argument("--skip-breakdowns", action="store_true",
                        help="Time the count, the tally and the CSV export only.")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"CivicLine tally benchmark, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
          f"load average {os.getloadavg()[0]:.1f} (other work slows every figure alike)")

    if args.only != "postgresql":
        if args.sqlite.exists():
            try:
                checkpoint_sqlite(args.sqlite)
            except sqlite3.OperationalError as exc:  # another process is using the file
                print(f"(no checkpoint of {args.sqlite}: {exc})")
        engine = make_engine(f"sqlite:///{args.sqlite}")

        def load() -> None:
            load_sqlite(args.sqlite, args.events)
            checkpoint_sqlite(args.sqlite)

        run("SQLite", engine, args.events, load, args.repeat, not args.skip_breakdowns)
        engine.dispose()

    if args.postgres and args.only != "sqlite":
        admin = make_engine(args.postgres)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{args.schema}"'))
        admin.dispose()
        separator = "&" if "?" in args.postgres else "?"
        engine = make_engine(f"{args.postgres}{separator}options=-csearch_path%3D{args.schema}")
        run("PostgreSQL", engine, args.events, lambda: load_postgres(engine, args.events),
            args.repeat, not args.skip_breakdowns)
        engine.dispose()


if __name__ == "__main__":
    main()
