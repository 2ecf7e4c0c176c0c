"""Where a gateway worker's memory growth goes: RSS beside the bounded caches, in one process.

    .venv/bin/python -m bench._memory_probe [--requests 160000] [--sample-every 10000]

The traffic of bench/worker_memory.py (same seed, so its first 100,000 requests are the
same) through Flask's test client, on a fresh SQLite file (SQLITE_SYNCHRONOUS NORMAL by
default, to go faster), Redis DB 12 (flushed). Every --sample-every requests prints VmRSS
and RssAnon of this process, the sizes of the gateway's lru_caches keyed by phone number
or text (to_e164: 16,384 at most; _phone_region: 4,096; normalise: 8,192), and the
distinct numbers seen so far. Growth that stops when the caches are full is the caches;
growth that goes on after is something else.

    .venv/bin/python -m bench._memory_probe --imports

instead prints, in a fresh interpreter, the RSS after each of the gateway's heavy imports
in turn and what each took: what a worker holds before its first request.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from redis import Redis

from bench import _traffic
from bench._profile import add_store_options
from bench._servers import BENCH_TOKEN, REPO, gateway_env

BASE = "http://localhost"
IMPORTS = ("flask", "sqlalchemy", "twilio.request_validator", "twilio.twiml.voice_response",
           "phonenumbers", "phonenumbers.geocoder", "redis", "rq", "yaml",
           "gateway.consultation.loader", "gateway.central.app", "gateway.officials.reports",
           "gateway.app")
IMPORT_SCRIPT = """
import importlib, sys, time
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
print(f"{'interpreter':<32} {rss():7.1f} MiB")
for name in sys.argv[1:]:
    started = time.perf_counter()
    importlib.import_module(name)
    took = (time.perf_counter() - started) * 1000
    print(f"{'+ import ' + name:<32} {rss():7.1f} MiB  {took:6.0f} ms")
"""


def import_costs() -> None:
    """RSS after each import, in a fresh interpreter (cumulative, in this order)."""
    subprocess.run([sys.executable, "-c", IMPORT_SCRIPT, *IMPORTS], check=True,  # noqa: S603
                   cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})


def status_mib(name: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=160_000)
    parser.add_argument("--sample-every", type=int, default=10_000)
    parser.add_argument("--synchronous", default="NORMAL", choices=("FULL", "NORMAL"))
    add_store_options(parser)
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--imports", action="store_true",
                        help="only print the RSS after each heavy import")
    args = parser.parse_args(argv)
    if args.imports:
        import_costs()
        return

    redis = Redis.from_url(args.redis_url)
    redis.flushdb()
    try:
        with tempfile.TemporaryDirectory(prefix="civicline-memory-probe-") as tmp:
            os.environ.update(gateway_env(Path(tmp), "gateway", args.flows, args.redis_url,
                                          args.synchronous))
            from gateway.app import create_app
            from gateway.channels.phone import to_e164
            from gateway.consultation.answers import normalise
            from gateway.regions import _phone_region

            app = create_app()
            client = app.test_client()
            stream = _traffic.conversation_stream(
                args.requests, _traffic.open_consultations(args.flows), seed=args.seed,
                closed=_traffic.closed_keywords(args.flows))
            print(f"{args.requests:,} webhooks through Flask's test client, "
                  f"SQLITE_SYNCHRONOUS={args.synchronous}; MiB of this process")
            print(f"{'requests':>9} {'numbers':>8} {'VmRSS':>7} {'RssAnon':>8} "
                  f"{'to_e164':>8} {'region':>7} {'normalise':>9}")
            seen: set[str] = set()

            def sample(done: int) -> None:
                print(f"{done:>9,} {len(seen):>8,} {status_mib('VmRSS'):>7.1f} "
                      f"{status_mib('RssAnon'):>8.1f} {to_e164.cache_info().currsize:>8,} "
                      f"{_phone_region.cache_info().currsize:>7,} "
                      f"{normalise.cache_info().currsize:>9,}", flush=True)

            sample(0)
            url = BASE + _traffic.SMS_PATH
            for start in range(0, len(stream), args.sample_every):
                part = stream[start:start + args.sample_every]
                for item in _traffic.sign_all(part, url, BENCH_TOKEN):
                    response = client.post(
                        _traffic.SMS_PATH, data=item.body, base_url=BASE,
                        headers={"X-Twilio-Signature": item.signature,
                                 "Content-Type": "application/x-www-form-urlencoded"})
                    if response.status_code != 200:
                        raise RuntimeError(f"HTTP {response.status_code}")
                    seen.add(item.sms.sender)
                sample(start + len(part))
            services = app.extensions["civicline"]
            services.store.engine.dispose()
            if services.central is not None:
                services.central.close()
    finally:
        redis.flushdb()
        redis.close()


if __name__ == "__main__":
    main()
