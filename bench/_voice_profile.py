"""Per-request costs of the voice line, in one process: cProfile, and a statement check.

    .venv/bin/python -m bench._voice_profile [--calls 300] [--synchronous NORMAL] [--top 30]

1. The calls of bench/voice_step.py (same caller behaviour, following the TwiML) through
   Flask's test client on a fresh SQLite file, Redis DB 12 (flushed): mean wall and CPU
   per request without the profiler, then cProfile's top functions.
2. gateway/store/calls.py builds its SQLAlchemy statements on every call (select(...),
   update(...).values(**values)), where gateway/store/local.py builds its own once at
   import because building cost more than running them. This times CallsTx.get, .save
   (an update) and .resume_positions as they are beside the same SQL pre-built with
   bindparams, inside one participant transaction, on a store holding 5,000 calls.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import itertools
import os
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
from sqlalchemy import and_, bindparam, insert, select, update

from bench._servers import BENCH_TOKEN, REPO, gateway_env
from bench.voice_step import HANG_UP, VOICE_PATH, Action, Caller, Signer, call_params
from gateway.consultation.loader import load_catalog
from gateway.consultation.voice_flow import CallState
from gateway.store import schema
from gateway.store.calls import CallStatus, CallsTx
from gateway.store.database import make_engine
from gateway.store.local import LocalStore, ParticipantTx

BASE = "http://localhost"


def profile_calls(args: argparse.Namespace, workdir: Path) -> None:
    env = gateway_env(workdir, "gateway", args.flows, args.redis_url, args.synchronous)
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        from gateway.app import create_app

        app = create_app()
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
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
    services = app.extensions["civicline"]
    services.store.engine.dispose()
    if services.central is not None:
        services.central.close()


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
    c = schema.calls.c
    resume = (
        select(c.consultation_id, c.position)
        .where(and_(c.pseudonym == bindparam("p"), c.call_sid != bindparam("x"),
                    c.status.in_([CallStatus.ACTIVE, CallStatus.ENDED]),
                    c.consultation_id.is_not(None), c.language.is_not(None),
                    c.updated_at >= bindparam("since")))
        .order_by(c.updated_at)
    )
    get = select(schema.calls).where(c.call_sid == bindparam("sid"))
    save = update(schema.calls).where(c.call_sid == bindparam("b_sid")).values(
        consultation_id=bindparam("b_c"), language=bindparam("b_l"),
        position=bindparam("b_p"), silences=bindparam("b_s"),
        invalid_tries=bindparam("b_i"), step=bindparam("b_st"),
        status=bindparam("b_status"), updated_at=bindparam("b_now"))
    who, sid = f"{7:064x}", f"CA{7:032x}"
    state = CallState("water-test", "en", 2, 0, 0, 3)
    since = now - timedelta(hours=24)
    save_values = {"b_sid": sid, "b_c": "water-test", "b_l": "en", "b_p": 2, "b_s": 0,
                   "b_i": 0, "b_st": 3, "b_status": "active", "b_now": now}
    Probe = Callable[[ParticipantTx, CallsTx], Any]
    probes: list[tuple[str, Probe, Probe]] = [
        ("CallsTx.resume_positions", lambda tx, calls: calls.resume_positions(since, sid),
         lambda tx, calls: tx.conn.execute(resume, {"p": who, "x": sid, "since": since}).all()),
        ("CallsTx.get", lambda tx, calls: calls.get(sid),
         lambda tx, calls: tx.conn.execute(get, {"sid": sid}).first()),
        ("CallsTx.save (update)",
         lambda tx, calls: calls.save(sid, state, CallStatus.ACTIVE, now),
         lambda tx, calls: tx.conn.execute(save, save_values).rowcount),
    ]

    def best_us(probe: Probe) -> float:
        runs = []
        for _ in range(3):
            with store.participant(who, "+254700000007", now) as tx:
                calls = CallsTx(tx)
                started = time.perf_counter()
                for _ in range(repeat):
                    probe(tx, calls)
                runs.append((time.perf_counter() - started) / repeat * 1e6)
        return min(runs)

    print(f"statements of gateway/store/calls.py, best of 3 x {repeat}, microseconds per call:")
    print(f"  {'':<26} {'as is':>8} {'pre-built':>10} {'saved':>8}")
    total_as_is = total_pre = 0.0
    for name, as_is, pre_built in probes:
        a, b = best_us(as_is), best_us(pre_built)
        total_as_is += a
        total_pre += b
        print(f"  {name:<26} {a:>8.1f} {b:>10.1f} {a - b:>8.1f}")
    print(f"  {'all three (one voice step)':<26} {total_as_is:>8.1f} {total_pre:>10.1f} "
          f"{total_as_is - total_pre:>8.1f}")
    store.engine.dispose()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--synchronous", default="NORMAL", choices=("FULL", "NORMAL"))
    parser.add_argument("--flows", type=Path, default=REPO / "tests" / "fixtures" / "flows")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
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
