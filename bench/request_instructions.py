"""Instructions per SMS webhook under callgrind: the gateway beside the baseline app.

    .venv/bin/python -m bench.request_instructions [--requests 1000] [--warmup 300]

Times per request move by ±10 % from run to run on a shared machine; instruction counts
do not: the same code, traffic and data give the same count to within about 0.1 %,
whatever else runs. This is the figure to compare two versions of the code by. It
counts instructions run in the process only: not the kernel's work in system calls (the
store's writes and syncs), and not cache misses, which make the gateway's instructions
slower than the baseline's (see bench.request_cost for time).

Each app runs in a process of its own under `valgrind --tool=callgrind`, all three at
once: the baseline app, then the gateway with SQLITE_SYNCHRONOUS=FULL and NORMAL, each
on fresh stores. Instrumentation is switched on (`callgrind_control`) for the counted
requests only, after the warm-up. The traffic is bench.request_cost's, through Flask's
test client. Needs valgrind (`apt-get install -y valgrind`); takes about 1 minute.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench._profile import add_store_options, close_app, gateway_app, post_sms, signed_sms
from bench._servers import BENCH_TOKEN, REPO
from bench.baseline_app import create_app as create_baseline

APPS = ("baseline", "FULL", "NORMAL")
COLLECTED = re.compile(r"Collected : (\d+)")


def child(app_name: str, requests: int, warmup: int, flows: Path, redis_url: str) -> None:
    """Send the traffic to one app, with instrumentation on for the counted part."""
    signed = signed_sms(flows, warmup + requests, seed=11)
    with tempfile.TemporaryDirectory(prefix="civicline-instructions-") as tmp:
        if app_name == "baseline":
            app = create_baseline(BENCH_TOKEN)
        else:
            app = gateway_app(Path(tmp), flows, redis_url, app_name)
        client = app.test_client()
        for item in signed[:warmup]:
            post_sms(client, item)
        _instrument("on")
        for item in signed[warmup:]:
            response = post_sms(client, item)
            if response.status_code != 200:
                raise RuntimeError(f"{app_name}: HTTP {response.status_code}")
        _instrument("off")
        if app_name != "baseline":
            close_app(app)


def _instrument(state: str) -> None:
    subprocess.run(["callgrind_control", "--instr=" + state, str(os.getpid())],
                   check=True, capture_output=True)


def run(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=300)
    add_store_options(parser)
    parser.add_argument("--child", choices=APPS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.requests, args.warmup, args.flows, args.redis_url)
        return
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        sys.exit("valgrind not found: apt-get install -y valgrind")

    with tempfile.TemporaryDirectory(prefix="civicline-callgrind-") as tmp:
        runs = {
            name: subprocess.Popen(
                ["valgrind", "--tool=callgrind", "--instr-atstart=no",
                 f"--callgrind-out-file={tmp}/{name}.out", sys.executable, "-m",
                 "bench.request_instructions", "--child", name,
                 "--requests", str(args.requests), "--warmup", str(args.warmup),
                 "--flows", str(args.flows), "--redis-url", args.redis_url],
                cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            )
            for name in APPS
        }
        counts = {}
        for name, process in runs.items():
            _, err = process.communicate()
            found = COLLECTED.search(err)
            if process.returncode != 0 or found is None:
                sys.exit(f"{name}: valgrind exited with {process.returncode}\n{err[-2000:]}")
            counts[name] = int(found.group(1)) / args.requests

    print(f"{args.requests} SMS webhooks after {args.warmup} warm-up, one process per app, "
          "Flask's test client, counted by callgrind")
    print(f"{'app':<16} {'instructions/req':>17} {'base/x':>7}")
    for name in APPS:
        label = name if name == "baseline" else f"gateway {name}"
        print(f"{label:<16} {counts[name]:17,.0f} {counts['baseline'] / counts[name]:7.2f}")
    print("base/x = the baseline's instructions per request / this app's")


if __name__ == "__main__":
    run()
