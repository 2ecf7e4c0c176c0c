"""The voice bench's results: one row per app, and the report printed from them."""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from dataclasses import dataclass

from bench import _client, _wrk
from bench._servers import WorkerSettings
from bench._voice_tally import Tally


@dataclass
class Row:
    name: str
    tally: Tally
    seconds: float
    server_cores: float = 0.0
    client_cores: float = 0.0
    tool: str = "python"
    wrk: _wrk.WrkResult | None = None  # set when wrk was the load generator

    @property
    def completed(self) -> int:
        return self.tally.completed

    @property
    def rate(self) -> float:
        return self.completed / self.seconds if self.seconds > 0 else 0.0

    @property
    def lost(self) -> int:
        return sum(self.tally.errors.values())

    def pct(self, pct: float, kind: str | None = None) -> float:
        if kind is None:
            values = [v for vs in self.tally.latencies.values() for v in vs]
            return _client.percentile(values, pct, self.lost) * 1000
        return _client.percentile(self.tally.latencies.get(kind, []), pct) * 1000

    @property
    def max_ms(self) -> float:
        values = [v for vs in self.tally.latencies.values() for v in vs]
        return math.inf if self.lost else max(values, default=0.0) * 1000

    @property
    def cpu_ms_per_request(self) -> float:
        return self.server_cores * 1000 / self.rate if self.rate else 0.0

    @property
    def non_2xx(self) -> int:
        return sum(n for code, n in self.tally.statuses.items() if not 200 <= code < 300)


def print_report(args: argparse.Namespace, settings: WorkerSettings, rows: Sequence[Row],
                 wrk_row: Row | None, stores: Sequence[tuple[str, str]]) -> None:
    baselines = [r for r in rows if r.name.startswith("baseline")]
    base_rate = sum(r.rate for r in baselines) / len(baselines) if baselines else 0.0
    base_cpu = (sum(r.cpu_ms_per_request for r in baselines) / len(baselines)
                if baselines else 0.0)
    print(f"CivicLine voice step benchmark: {settings.describe()} for both apps "
          f"(timeouts/keepalive of config/gunicorn.conf.py, access log off, max_requests off)")
    print(f"calls: {args.concurrency} callers at once, closed loop, python client; each call "
          f"follows the TwiML it gets (Gather action / Redirect / Record action); "
          f"{args.requests} requests or {args.duration:g} s per app; {args.warmup} warm-up "
          f"requests first; flows {args.flows}")
    print("each app first answered 403 to a voice webhook altered after signing: checks are on")
    print()
    header = (f"{'app':<15} {'requests':>8} {'calls':>6} {'secs':>5} {'req/s':>6} "
              f"{'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'start p50/p99':>14} "
              f"{'step p50/p99':>13} {'non-2xx':>7} {'srv CPU':>7} {'gen CPU':>7} "
              f"{'CPU ms/req':>10} {'ratio':>5}")
    print(header)
    print("-" * len(header))
    for row in rows:
        t = row.tally
        calls = t.calls["ended by TwiML"] + t.calls["caller hung up"] + t.calls["cut (baseline)"]
        ratio = f"{row.rate / base_rate:.2f}" if base_rate and not row.name.startswith(
            "baseline") else "-"
        start = f"{row.pct(50, 'start'):.1f}/{row.pct(99, 'start'):.1f}"
        step = f"{row.pct(50, 'step'):.1f}/{row.pct(99, 'step'):.1f}"
        bad = " ".join(f"{c}x{n}" for c, n in sorted(t.statuses.items())
                       if not 200 <= c < 300) or "0"
        if row.lost:
            bad += f" err{row.lost}"
        print(f"{row.name:<15} {row.completed:>8} {calls:>6} {row.seconds:>5.1f} "
              f"{row.rate:>6.0f} {row.pct(50):>7.1f} {row.pct(99):>7.1f} {row.max_ms:>7.1f} "
              f"{start:>14} {step:>13} {bad:>7} {row.server_cores:>7.2f} "
              f"{row.client_cores:>7.2f} {row.cpu_ms_per_request:>10.2f} {ratio:>5}")
    print("ratio = gateway req/s / mean baseline req/s (baseline measured first and again "
          "last); CPU ms/req = gunicorn (master + workers) CPU per request answered")
    if len(baselines) == 2:
        first, last = baselines
        drift = (last.rate / first.rate - 1) * 100 if first.rate else 0.0
        print(f"baseline drift over the run: {first.rate:.0f} -> {last.rate:.0f} req/s "
              f"({drift:+.0f}%)")
    for row in rows:
        if row.name.startswith("gateway") and base_cpu:
            print(f"{row.name}: server CPU per request {row.cpu_ms_per_request:.2f} ms vs "
                  f"baseline {base_cpu:.2f} ms: {row.cpu_ms_per_request / base_cpu:.1f}x; "
                  f"req/s ratio {row.rate / base_rate:.2f}")
    if wrk_row is not None and wrk_row.wrk is not None:
        result = wrk_row.wrk
        print(f"reference, baseline step driven by wrk ({args.concurrency} connections, same "
              f"constant TwiML, {args.wrk_seconds} s): {result.rate:.0f} req/s, p50 "
              f"{result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, srv CPU "
              f"{wrk_row.server_cores:.2f}, gen CPU {wrk_row.client_cores:.2f}: the python "
              f"client (which signs every request and parses every answer) reached "
              f"{baselines[0].rate / result.rate * 100 if result.rate else 0:.0f}% of that "
              f"against the baseline")
    print()
    print("what the calls did:")
    for row in rows:
        t = row.tally
        per_call = t.requests_per_call
        mean = sum(per_call) / len(per_call) if per_call else 0.0
        print(f"  {row.name}: answers {dict(t.twiml.most_common())}; calls {dict(t.calls)}; "
              f"{mean:.1f} requests per call; retries {t.retries} "
              f"({t.retries_differing} answered differently); steps whose action URL did "
              f"not move on: {t.not_advanced if not row.name.startswith('baseline') else '-'}")
    for name, summary in stores:
        print(f"  {name} store after warm-up + run: {summary}")
