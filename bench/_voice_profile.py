"""Per-request costs of the voice line, in one process: cProfile, and a statement check.

    .venv/bin/python -m bench._voice_profile [--calls 300] [--synchronous NORMAL] [--top 30]

1. The calls of bench/voice_step.py (same caller behaviour, following the TwiML) through
   Flask's test client on a fresh SQLite file, Redis DB 12 (flushed): mean wall and CPU
   per request without the profiler, then cProfile's top functions.
2. A webhook's statements run on the driver (gateway/store/driver.py). This times
   CallsTx.get, .save (an update) and .resume_positions that way beside the same
   statements executed through a SQLAlchemy Connection, inside one transaction, on a
   store holding 5,000 calls.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import itertools
import pstats
import random
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import insert

from bench._profile import add_store_options, close_app, gateway_app
from bench._servers import BENCH_TOKEN
from bench.voice_step import HANG_UP, VOICE_PATH, Action, Caller, Signer, call_params
from gateway.consultation.loader import load_catalog
from gateway.consultation.voice_flow import CallState
from gateway.store import schema
from gateway.store.calls import SELECT_CALL, SELECT_RESUMABLE, UPDATE_CALL, CallStatus, CallsTx
from gateway.store.database import make_engine
from gateway.store.local import LocalStore

BASE = "http://localhost"


def profile_calls(args: argparse.Namespace, workdir: Path) -> None:
    app = gateway_app(workdir, args.flows, args.redis_url, args.synchronous)
    client: FlaskClient = app.test_client()
    catalog = load_catalog([args.flows])
    voiced = [c for c in catalog.consultations if c.voice.numbers]
    line = voiced[0].voice.numbers[0]
    caller = Caller({q.id: q for c in catalog.consultations for q in c.steps},
                    len(voiced[0].languages))
    signer = Signer("localhost", BENCH_TOKEN)
    numbers = itertools.count(1)
    rng = random.Random(args.seed)

    def one_call() -> int:
        base = call_params(f"CA{rng.getrandbits(128):032x}", f"+2547{next(numbers):08d}", line)
        action: Action | None = Action(VOICE_PATH, {"CallStatus": "ringing"})
        sent = 0
        while action is not None and action is not HANG_UP and sent < 40:
            params = {**base, **action.extra}
            parts = urlsplit(action.url)
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            signature = signer.validator.compute_signature(BASE + target, params)
            response = client.post(target, data=params, base_url=BASE,
                                   headers={"X-Twilio-Signature": signature})
            if response.status_code != 200:
                raise RuntimeError(f"HTTP {response.status_code}: {response.data[:200]!r}")
            sent += 1
            action = caller.next_action(ET.fromstring(response.data), rng)
        return sent

    sum(one_call() for _ in range(args.calls // 2))  # warm-up
    started, cpu = time.perf_counter(), time.process_time()
    plain = sum(one_call() for _ in range(args.calls))
    wall_ms = (time.perf_counter() - started) * 1000 / plain
    cpu_ms = (time.process_time() - cpu) * 1000 / plain
    profiler = cProfile.Profile()
    profiler.enable()
    profiled = sum(one_call() for _ in range(args.calls))
    profiler.disable()
    print(f"{plain} voice requests ({args.calls} calls) through Flask's test client, "
          f"SQLITE_SYNCHRONOUS={args.synchronous}: {wall_ms:.3f} ms wall, {cpu_ms:.3f} ms CPU "
          f"per request, client signing and XML parsing included; then {profiled} under "
          f"cProfile:")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(args.sort).print_stats(args.top)
    print(out.getvalue())
    close_app(app)


def statement_costs(workdir: Path, repeat: int) -> None:
    store = LocalStore(make_engine(f"sqlite:///{workdir / 'calls.db'}", synchronous="NORMAL"))
    store.create_schema()
    now = datetime.now(UTC)
    with store.engine.begin() as conn:
        conn.execute(insert(schema.calls), [
            {"call_sid": f"CA{i:032x}", "pseudonym": f"{i:064x}",
             "consultation_id": "water-test", "language": "en", "position": 2,
             "silences": 0, "invalid_tries": 0, "step": 3, "status": "active",
             "started_at": now, "updated_at": now}
            for i in range(5000)
        ])
    who, sid = f"{7:064x}", f"CA{7:032x}"
    state = CallState("water-test", "en", 2, 0, 0, 3)
    since = now - timedelta(hours=24)
    save_values = {"b_call_sid": sid, "b_consultation_id": "water-test", "b_language": "en",
                   "b_position": 2, "b_silences": 0, "b_invalid_tries": 0, "b_step": 3,
                   "b_status": "active", "b_updated_at": now}
    Probe = Callable[[Any], Any]
    probes: list[tuple[str, Probe, Probe]] = [
        ("CallsTx.resume_positions", lambda calls: calls.resume_positions(since, sid),
         lambda conn: conn.execute(
             SELECT_RESUMABLE, {"pseudonym": who, "exclude_call": sid, "since": since}).all()),
        ("CallsTx.get", lambda calls: calls.get(sid),
         lambda conn: conn.execute(SELECT_CALL, {"call_sid": sid}).first()),
        ("CallsTx.save (update)", lambda calls: calls.save(sid, state, CallStatus.ACTIVE, now),
         lambda conn: conn.execute(UPDATE_CALL, save_values).rowcount),
    ]

    def best_us(probe: Probe, driver: bool) -> float:
        runs = []
        for _ in range(3):
            with (store.participant(who, "+254700000007", now) if driver
                  else store.engine.begin()) as tx:
                target = CallsTx(tx) if driver else tx
                started = time.perf_counter()
                for _ in range(repeat):
                    probe(target)
                runs.append((time.perf_counter() - started) / repeat * 1e6)
        return min(runs)

    print(f"statements of gateway/store/calls.py, best of 3 x {repeat}, microseconds per call:")
    print(f"  {'':<26} {'driver':>8} {'SQLAlchemy':>10} {'saved':>8}")
    driver_total = sqlalchemy_total = 0.0
    for name, on_driver, through_sqlalchemy in probes:
        a, b = best_us(on_driver, driver=True), best_us(through_sqlalchemy, driver=False)
        driver_total += a
        sqlalchemy_total += b
        print(f"  {name:<26} {a:>8.1f} {b:>10.1f} {b - a:>8.1f}")
    print(f"  {'all three (one voice step)':<26} {driver_total:>8.1f} {sqlalchemy_total:>10.1f} "
          f"{sqlalchemy_total - driver_total:>8.1f}")
    store.engine.dispose()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--synchronous", default="NORMAL", choices=("FULL", "NORMAL"))
    add_store_options(parser)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", default="cumulative", choices=("cumulative", "tottime"))
    parser.add_argument("--repeat", type=int, default=3000,
                        help="statement check: executions per measurement")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    redis = Redis.from_url(args.redis_url)
    redis.flushdb()
    try:
        with tempfile.TemporaryDirectory(prefix="civicline-voice-profile-") as tmp:
            statement_costs(Path(tmp), args.repeat)
            print()
            profile_calls(args, Path(tmp))
    finally:
        redis.flushdb()
        redis.close()


if __name__ == "__main__":
    main()
