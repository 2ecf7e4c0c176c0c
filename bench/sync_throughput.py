"""Outbox sync throughput over loopback HTTP, beside two baselines measured in the same run.

    .venv/bin/python -m bench.sync_throughput [--events 100000] [--batch 500]
        [--workers 2] [--central-db URL] [--no-gzip]

1. Fills a gateway SQLite outbox (a temp dir, SQLITE_SYNCHRONOUS=FULL as in production)
   with --events response events.
2. Starts the central store under gunicorn on 127.0.0.1 (--workers sync workers, access
   log off; its database a fresh SQLite file, or --central-db, e.g. PostgreSQL), issues a
   gateway token, and times the real sync pass (gateway.sync.runner.Syncer over HTTP):
   read a batch, JSON (+gzip), POST, validate, INSERT .. ON CONFLICT DO NOTHING RETURNING,
   mark synced. Then it sends everything again (all already known: the cost of a resend
   after a lost acknowledgement).
3. Baselines, same run, same batches:
   (a) raw POST: the same request bodies, pre-encoded, POSTed one after another to a
       trivial WSGI app under the same gunicorn settings (reads the body, answers 200);
   (b) direct insert: the same validated batches written with CentralStore.receive into a
       fresh central database, no HTTP.
Prints events/s for each and the sync/baseline ratios.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `gateway` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402
from sqlalchemy import func, insert, select, update  # noqa: E402

from gateway.central.store import schema as central_schema  # noqa: E402
from gateway.central.store.central_store import CentralStore  # noqa: E402
from gateway.central.validation import parse_batch  # noqa: E402
from gateway.database import make_engine  # noqa: E402
from gateway.settings import Settings  # noqa: E402
from gateway.store import schema  # noqa: E402
from gateway.store.outbox import OutboxStore  # noqa: E402
from gateway.store.participants import LocalStore  # noqa: E402
from gateway.sync.client import GZIP_MIN_BYTES, CentralClient, HttpTransport  # noqa: E402
from gateway.sync.runner import Syncer  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
FLOW = REPO / "tests" / "fixtures" / "flows" / "water.yaml"  # published at both centres
CONSULTATION = "water-test"
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
QUESTIONS = [("priority", ["water", "roads", "clinics", "schools"]), ("enough", ["yes", "no"]),
             ("satisfaction", ["1", "2", "3", "4", "5"]),
             ("comment", ["The tap runs dry every Friday", "Fix the borehole"]),
             ("age_band", ["under_18", "18_34", "35_59", "60_plus"])]


def trivial_app(environ: dict, start_response: object) -> list[bytes]:
    """Baseline (a): read the whole body, answer a constant JSON receipt."""
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    body = b'{"new": 0, "known": 0}'
    start_response("200 OK", [("Content-Type", "application/json"),  # type: ignore[operator]
                              ("Content-Length", str(len(body)))])
    return [body]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    def __init__(self, app: str, workers: int, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [GUNICORN, "--workers", str(workers), "--bind", f"127.0.0.1:{self.port}",
             "--timeout", "120", "--log-level", "warning", app],
            cwd=REPO, env={**os.environ, **env},
        )
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    requests.get(self.url + "/", timeout=5)
                    return
                except requests.RequestException:
                    time.sleep(0.1)
            raise RuntimeError(f"gunicorn {app} did not start")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


def fill_outbox(store: LocalStore, count: int) -> None:
    start = datetime(2026, 6, 1, tzinfo=UTC)
    chunk = 10_000
    for offset in range(0, count, chunk):
        rows = []
        for n in range(offset, min(offset + chunk, count)):
            question, values = QUESTIONS[n % len(QUESTIONS)]
            value = values[(n // len(QUESTIONS)) % len(values)]
            rows.append({
                "event_id": str(uuid.uuid4()),
                "consultation_id": CONSULTATION,
                "question_id": question,
                "pseudonym": f"{n // len(QUESTIONS):064x}",
                "channel": "sms" if n % 3 else "voice",
                "status": "answered",
                "value": value,
                "raw": value,
                "language": "en" if n % 2 else "sw",
                "answered_at": start + timedelta(seconds=n),
                "region": "KE-047",
            })
        with store.engine.begin() as conn:
            conn.execute(insert(schema.events), rows)


def central_count(store: CentralStore) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(central_schema.events)).scalar_one()


def rate(events: int, seconds: float) -> str:
    return f"{events / seconds:>10,.0f} events/s  ({seconds:6.2f} s)"


def open_centre(url: str, gateway_name: str) -> tuple[CentralStore, str]:
    """An empty central store at `url` that knows the consultation; a gateway's token."""
    centre = CentralStore.from_url(url)
    centre.create_schema()
    with centre.engine.begin() as conn:
        conn.execute(central_schema.events.delete())
    centre.publish(FLOW.read_text(encoding="utf-8"), str(FLOW), datetime.now(UTC))
    return centre, centre.add_gateway(gateway_name, datetime.now(UTC))


def time_sync(args: argparse.Namespace, gateway: LocalStore, centre: CentralStore,
              token: str, data_dir: str) -> tuple[float, float]:
    """Seconds to sync every event over HTTP, then to send them all again (all known)."""
    server = Gunicorn("gateway.central.app:create_central_app()", args.workers,
                      {"CENTRAL_DATABASE_URL": centre.engine.url.render_as_string(False),
                       "DATA_DIR": data_dir})
    settings = Settings(sync_batch_size=args.batch, central_url=server.url, central_token=token)
    try:
        syncer = Syncer(settings, OutboxStore(gateway.engine),
                        lambda: CentralClient(HttpTransport(server.url), token,
                                              compress=not args.no_gzip),
                        refresh_catalog=False)
        started = time.perf_counter()
        report = syncer.run(force=True, budget=float("inf"))
        sync_seconds = time.perf_counter() - started
        assert report.outcome == "synced", report
        assert (report.sent, report.new) == (args.events, args.events), report
        assert central_count(centre) == args.events
        with gateway.engine.begin() as conn:  # as if every acknowledgement was lost
            conn.execute(update(schema.events).values(synced_at=None))
        started = time.perf_counter()
        resend = syncer.run(force=True, budget=float("inf"))
        resend_seconds = time.perf_counter() - started
        assert (resend.sent, resend.new, resend.known) == (args.events, 0, args.events)
        assert central_count(centre) == args.events
        syncer.close()
    finally:
        server.stop()
    return sync_seconds, resend_seconds


def sent_batches(gateway: LocalStore, size: int) -> list[list[dict]]:
    """The batches as the sync sent them, read again from the outbox."""
    outbox = OutboxStore(gateway.engine)
    with gateway.engine.begin() as conn:
        conn.execute(update(schema.events).values(synced_at=None))
    batches = []
    while batch := outbox.next_batch(size):
        batches.append([e.payload for e in batch])
        outbox.mark_synced([e.seq for e in batch], datetime.now(UTC))
    return batches


def time_raw_posts(args: argparse.Namespace, bodies: list[bytes], token: str) -> float:
    """Baseline (a): the same bodies POSTed to a trivial app."""
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    if not args.no_gzip:
        headers["Content-Encoding"] = "gzip"
    trivial = Gunicorn("bench.sync_throughput:trivial_app", args.workers, {})
    try:
        session = requests.Session()
        started = time.perf_counter()
        for body in bodies:
            session.post(trivial.url + "/api/v1/events", data=body, headers=headers,
                         timeout=60).raise_for_status()
        seconds = time.perf_counter() - started
        session.close()
    finally:
        trivial.stop()
    return seconds


def time_direct_inserts(args: argparse.Namespace, url: str, batches: list[list[dict]]) -> float:
    """Baseline (b): the same validated batches stored with CentralStore.receive."""
    direct, _ = open_centre(url, "bench-direct")
    parsed = []
    for events in batches:
        batch, problems = parse_batch({"events": events, "backlog": 0})
        assert batch is not None, problems
        parsed.append(batch)
    started = time.perf_counter()
    for batch in parsed:
        direct.receive("bench-direct", batch, datetime.now(UTC))
    seconds = time.perf_counter() - started
    assert central_count(direct) == args.events
    direct.engine.dispose()
    return seconds


def encoded(batches: list[list[dict]], compress: bool) -> list[bytes]:
    bodies = []
    for events in batches:
        body = json.dumps({"events": events, "backlog": 0, "quarantined": 0,
                           "per_event_refusals": True},
                          separators=(",", ":"), ensure_ascii=False).encode()
        if compress and len(body) >= GZIP_MIN_BYTES:
            body = gzip.compress(body, compresslevel=5)
        bodies.append(body)
    return bodies


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=Settings.sync_batch_size)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--central-db", default="", help="default: a fresh SQLite file")
    parser.add_argument("--no-gzip", action="store_true", help="send bodies uncompressed")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="civicline-sync-bench-") as tmp:
        central_url = args.central_db or f"sqlite:///{tmp}/central.db"
        # With --central-db both runs use it: emptied again before the direct inserts.
        direct_url = args.central_db or f"sqlite:///{tmp}/direct.db"
        print(f"python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
              f"{os.cpu_count()} CPUs; {args.events:,} events, batches of {args.batch}, "
              f"gunicorn --workers {args.workers}, gzip {'off' if args.no_gzip else 'on'}, "
              f"central DB {central_url.split('://')[0]}")
        gateway = LocalStore(make_engine(f"sqlite:///{tmp}/gateway.db"))
        gateway.create_schema()
        started = time.perf_counter()
        fill_outbox(gateway, args.events)
        print(f"filled the gateway outbox in {time.perf_counter() - started:.1f} s")

        centre, token = open_centre(central_url, f"bench-{uuid.uuid4().hex[:8]}")
        sync_seconds, resend_seconds = time_sync(args, gateway, centre, token, tmp)
        centre.engine.dispose()
        batches = sent_batches(gateway, args.batch)
        bodies = encoded(batches, not args.no_gzip)
        post_seconds = time_raw_posts(args, bodies, token)
        insert_seconds = time_direct_inserts(args, direct_url, batches)
        gateway.engine.dispose()

    total_mb = sum(len(b) for b in bodies) / 1e6
    print(f"request bodies: {len(bodies)} batches, {total_mb:.1f} MB on the wire")
    print(f"sync over HTTP (new events)         {rate(args.events, sync_seconds)}")
    print(f"sync over HTTP (all already known)  {rate(args.events, resend_seconds)}")
    print(f"baseline (a) raw POST, trivial app  {rate(args.events, post_seconds)}")
    print(f"baseline (b) direct insert, no HTTP {rate(args.events, insert_seconds)}")
    print(f"sync / raw POST:      {post_seconds / sync_seconds:.2f}")
    print(f"sync / direct insert: {insert_seconds / sync_seconds:.2f}")


if __name__ == "__main__":
    main()
