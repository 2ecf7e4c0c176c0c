"""A quick look at per-request costs: the benchmark's traffic through Flask's test client.

    .venv/bin/python -m bench._profile [--requests 3000] [--synchronous NORMAL] [--top 30]

One process, no HTTP server: the same signed webhooks as bench/sms_webhook.py, a fresh
SQLite file, Redis DB 12 (flushed) for the real sync trigger. Prints what the gateway
answered (so the traffic can be seen to exercise keywords, answers and invalid replies),
the mean cost per request with and without cProfile, and cProfile's top functions.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import event
from werkzeug.test import TestResponse

from bench import _traffic
from bench._servers import BENCH_TOKEN, REPO, gateway_env

TEST_BASE = "http://localhost"


def add_store_options(parser: argparse.ArgumentParser) -> None:
    """--flows and --redis-url, as every in-process bench takes them."""
    parser.add_argument("--flows", type=Path, default=REPO / "tests" / "fixtures" / "flows")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")


def classify(reply: bytes) -> str:
    """A coarse label for a TwiML reply, to show what kind of work the gateway did."""
    text = reply.decode("utf-8", "replace")
    if "<Message>" not in text:
        return "no reply"
    lowered = text.lower()
    for label, marks in (
        ("invalid", ("not a valid answer", "si sahihi", "could not read")),
        ("closed", ("is closed", "umefungwa")),
        ("opted out", ("no more messages",)),
        ("no consultation", ("to take part", "text one of")),
        ("welcome", ("short questions", "maswali")),
        ("thanks", ("thank you", "asante")),
        ("help", ("reply with the number", "jibu kwa namba")),
        ("language set", ("language set", "lugha imewekwa")),
    ):
        if any(mark in lowered for mark in marks):
            return label
    return "next question"


def run(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--synchronous", default="NORMAL", choices=("FULL", "NORMAL"))
    add_store_options(parser)
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--sort", default="cumulative", choices=("cumulative", "tottime"))
    args = parser.parse_args(argv)

    redis = Redis.from_url(args.redis_url)
    redis.flushdb()
    with tempfile.TemporaryDirectory(prefix="civicline-profile-") as tmp:
        app = gateway_app(Path(tmp), args.flows, args.redis_url, args.synchronous)
        # Three disjoint slices: warm-up, timed without profiler, timed with profiler.
        signed = signed_sms(args.flows, 3 * args.requests, seed=7)
        client = _client(app)

        def send(items: Sequence[_traffic.Signed]) -> Counter[str]:
            kinds: Counter[str] = Counter()
            for item in items:
                response = post_sms(client, item)
                if response.status_code != 200:
                    kinds[f"HTTP {response.status_code}"] += 1
                else:
                    kinds[classify(response.data)] += 1
            return kinds

        n = args.requests
        warm = send(signed[:n])
        started, cpu = time.perf_counter(), time.process_time()
        plain = send(signed[n:2 * n])
        plain_ms = (time.perf_counter() - started) * 1000 / n
        plain_cpu_ms = (time.process_time() - cpu) * 1000 / n
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        profiled = send(signed[2 * n:])
        profiler.disable()
        profiled_ms = (time.perf_counter() - started) * 1000 / n
        total = warm + plain + profiled
        print(f"{3 * n} webhooks through Flask's test client, SQLITE_SYNCHRONOUS="
              f"{args.synchronous}")
        print("replies: " + ", ".join(f"{k} {v * 100 / (3 * n):.1f}%"
                                      for k, v in total.most_common()))
        print(f"mean per request: {plain_ms:.3f} ms wall, {plain_cpu_ms:.3f} ms CPU (without "
              f"profiler); {profiled_ms:.3f} ms wall under cProfile")
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.strip_dirs().sort_stats(args.sort).print_stats(args.top)
        print(out.getvalue())
        close_app(app)
    redis.flushdb()
    redis.close()


def signed_sms(flows: Path, count: int, seed: int) -> list[_traffic.Signed]:
    """`count` of the benchmark's SMS webhooks, signed for Flask's test client."""
    consultations = _traffic.open_consultations(flows)
    stream = _traffic.conversation_stream(count, consultations, seed=seed,
                                          closed=_traffic.closed_keywords(flows))
    return _traffic.sign_all(stream, TEST_BASE + _traffic.SMS_PATH, BENCH_TOKEN)


def post_sms(client: FlaskClient, item: _traffic.Signed) -> TestResponse:
    return client.post(
        _traffic.SMS_PATH, data=item.body, base_url=TEST_BASE,
        headers={"X-Twilio-Signature": item.signature,
                 "Content-Type": "application/x-www-form-urlencoded"},
    )


def set_wal_autocheckpoint(app: Flask, pages: int) -> None:
    """PRAGMA wal_autocheckpoint on every connection of the gateway's store from now on."""
    engine = app.extensions["civicline"].store.engine

    @event.listens_for(engine, "connect")
    def _pages(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={int(pages)}")

    engine.dispose()  # pooled connections reopen with the listener above


def gateway_app(workdir: Path, flows: Path, redis_url: str, synchronous: str) -> Flask:
    """The gateway app on fresh stores in `workdir`, configured as bench/_servers.py does."""
    env = gateway_env(workdir, "gateway", flows, redis_url, synchronous)
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        from gateway.app import create_app

        return create_app()
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def close_app(app: Flask) -> None:
    services = app.extensions["civicline"]
    services.store.engine.dispose()
    central = getattr(services, "central", None)  # the embedded central store, if any
    if central is not None:
        central.close()


def _client(app: Flask) -> FlaskClient:
    return app.test_client()


if __name__ == "__main__":
    run()
