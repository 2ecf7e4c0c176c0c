"""The outreach bench's figures: read from the Twilio stand-in's event file, from the worker's
memory samples and from the webhook load's latencies, and the table printed from them."""

from __future__ import annotations

import argparse
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench import _client
from bench._outreach_procs import RssSample

MIB = 1024.0
P99_TARGET_MS = 50.0
RATE_TOLERANCE = 0.02  # achieved rate within 2 % of the configured one
WINDOW = 10.0  # seconds: the steadiness of a rate is shown per window this long


@dataclass
class StandInEvents:
    """What the stand-in recorded: acceptances (with the number), answers and completions."""

    messages: list[tuple[float, str]] = field(default_factory=list)
    calls: list[tuple[float, str]] = field(default_factory=list)
    answered: list[tuple[float, int]] = field(default_factory=list)
    ended: list[tuple[float, str]] = field(default_factory=list)
    completed: list[tuple[float, int]] = field(default_factory=list)

    @classmethod
    def read(cls, path: Path) -> StandInEvents:
        found = cls()
        try:
            text = path.read_text(encoding="ascii")
        except FileNotFoundError:
            return found
        for line in text.splitlines():
            parts = line.split(" ")
            if len(parts) != 3:
                continue  # a line being written
            kind, at, value = parts[0], float(parts[1]), parts[2]
            if kind == "M":
                found.messages.append((at, value))
            elif kind == "C":
                found.calls.append((at, value))
            elif kind == "A":
                found.answered.append((at, int(value)))
            elif kind == "E":
                found.ended.append((at, value))
            elif kind == "D":
                found.completed.append((at, int(value)))
        return found


@dataclass(frozen=True)
class Rate:
    """Acceptances per second over the steady part: from `skip` s after the first to the last."""

    count: int  # acceptances in all
    steady: int  # acceptances in the steady part
    seconds: float  # its length
    total_seconds: float  # first to last acceptance
    windows: tuple[int, ...] = ()  # acceptances in each whole WINDOW s of the steady part

    @property
    def per_second(self) -> float:
        return (self.steady - 1) / self.seconds if self.seconds > 0 else 0.0

    def windows_text(self) -> str:
        if not self.windows:
            return f"no whole {WINDOW:g}-s window"
        return (f"{min(self.windows) / WINDOW:.1f}-{max(self.windows) / WINDOW:.1f}/s over "
                f"{len(self.windows)} window(s) of {WINDOW:g} s")

    @property
    def overall(self) -> float:
        return (self.count - 1) / self.total_seconds if self.total_seconds > 0 else 0.0


def steady_rate(times: Sequence[float], skip: float) -> Rate:
    ordered = sorted(times)
    if len(ordered) < 2:
        return Rate(len(ordered), 0, 0.0, 0.0)
    steady = [t for t in ordered if t >= ordered[0] + skip]
    seconds = steady[-1] - steady[0] if len(steady) > 1 else 0.0
    counts = Counter(int((t - steady[0]) // WINDOW) for t in steady)
    whole = int(seconds // WINDOW)  # the last window, cut short by the end, left out
    return Rate(len(ordered), len(steady), seconds, ordered[-1] - ordered[0],
                tuple(counts.get(i, 0) for i in range(whole)))


def max_concurrent(starts: Sequence[float], ends: Sequence[float]) -> tuple[int, float]:
    """Most calls started and not yet ended at once, and the share of the calls' span
    spent at that level."""
    steps = sorted([(t, 1) for t in starts] + [(t, -1) for t in ends])
    if not steps:
        return 0, 0.0
    level = peak = 0
    at_peak = 0.0
    for (at, step), nxt in zip(steps, [*steps[1:], steps[-1]], strict=True):
        level += step
        if level > peak:
            peak, at_peak = level, 0.0
        if level == peak:
            at_peak += nxt[0] - at
    span = steps[-1][0] - steps[0][0]
    return peak, (at_peak / span if span > 0 else 0.0)


@dataclass(frozen=True)
class Memory:
    first: RssSample
    middle: RssSample
    last: RssSample
    slope_mib_per_min: float  # least squares over the samples, worker + children
    growth: float  # highest total of the second half / highest of the first - 1
    first_peak_kib: int
    second_peak_kib: int

    @property
    def cores(self) -> float:
        """CPU seconds per second used by the worker and its children over the phase."""
        span = self.last.at - self.first.at
        return (self.last.cpu - self.first.cpu) / span if span > 0 else 0.0

    @property
    def flat(self) -> bool:
        return self.growth <= FLAT_GROWTH


FLAT_GROWTH = 0.05  # "flat": the second half's peak no more than 5 % above the first's
# (halves of the samples taken while a job runs)


def memory(samples: Sequence[RssSample]) -> Memory | None:
    """First, middle and last sample of a phase, and how fast the total grew."""
    if len(samples) < 2:
        return None
    xs = [s.at / 60 for s in samples]
    ys = [s.total_kib / MIB for s in samples]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / var \
        if var else 0.0
    # Compared only while a job runs (most children alive): between passes the worker has
    # no work-horse, and a half that happens to hold no pass would look smaller.
    busy = [s for s in samples if s.kids == max(s.kids for s in samples)]
    judged = busy if len(busy) >= 2 else list(samples)
    half = len(judged) // 2
    first = max(s.total_kib for s in judged[:half])
    second = max(s.total_kib for s in judged[half:])
    growth = second / first - 1 if first else math.inf
    return Memory(samples[0], samples[len(samples) // 2], samples[-1], slope, growth, first,
                  second)


@dataclass(frozen=True)
class Latency:
    name: str
    sent: int
    completed: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    lag_p99_ms: float
    non_2xx: int
    lost: int  # errors and requests never sent: infinite latency

    @classmethod
    def of(cls, name: str, result: _client.Result) -> Latency:
        lost = result.unsent + sum(result.errors.values())
        lat = result.latencies
        return cls(
            name, result.sent, result.completed,
            _client.percentile(lat, 50, lost) * 1000, _client.percentile(lat, 99, lost) * 1000,
            (max(lat) if lat else 0.0) * 1000 if not lost else math.inf,
            _client.percentile(result.lags, 99) * 1000,
            sum(n for code, n in result.statuses.items() if not 200 <= code < 300), lost)


def fmt_rss(sample: RssSample) -> str:
    return (f"{sample.total_kib / MIB:.1f} MiB (worker {sample.worker_kib / MIB:.1f}, "
            f"work-horse {sample.horse_kib / MIB:.1f}) at {sample.at:.0f} s")


def print_latencies(rows: Sequence[Latency], rate: float, seconds: float) -> None:
    print(f"\nSMS webhook, open loop at {rate:g} req/s for {seconds:g} s each "
          "(latency from the due time):")
    print(f"  {'when':<28}{'sent':>7}{'2xx+':>7}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
          f"{'lag p99':>9}{'non-2xx':>9}{'lost':>6}")
    for r in rows:
        print(f"  {r.name:<28}{r.sent:>7}{r.completed:>7}{r.p50_ms:>9.1f}{r.p99_ms:>9.1f}"
              f"{r.max_ms:>9.1f}{r.lag_p99_ms:>9.1f}{r.non_2xx:>9}{r.lost:>6}")


def print_memory(name: str, mem: Memory | None) -> None:
    if mem is None:
        print(f"  {name}: too few samples")
        return
    print(f"  {name}: first {fmt_rss(mem.first)}\n"
          f"  {' ' * len(name)}  middle {fmt_rss(mem.middle)}\n"
          f"  {' ' * len(name)}  last {fmt_rss(mem.last)}\n"
          f"  {' ' * len(name)}  slope {mem.slope_mib_per_min:+.2f} MiB/min; highest "
          f"{mem.first_peak_kib / MIB:.1f} MiB in the first half, "
          f"{mem.second_peak_kib / MIB:.1f} in the second ({mem.growth:+.1%}); worker CPU "
          f"{mem.cores:.2f} cores on average")


def print_table(rows: Sequence[tuple[str, str, str, bool | None]]) -> None:
    print("\n| figure | target | measured | met? |\n| --- | --- | --- | --- |")
    for figure, target, measured, met in rows:
        verdict = "-" if met is None else ("yes" if met else "NOT MET")
        print(f"| {figure} | {target} | {measured} | {verdict} |")


def duplicates(accepted: Sequence[tuple[float, str]]) -> int:
    """Numbers that got more than one request."""
    return sum(1 for n in Counter(to for _, to in accepted).values() if n > 1)


@dataclass
class Phase:
    name: str
    rate: Rate
    accepted: int
    expected: int
    duplicates: int
    memory: Memory | None
    webhooks: Latency
    overlapped: bool  # the webhook load ended before the last acceptance
    first_after: float  # seconds from `civicline outreach start` to the first acceptance
    concurrent: tuple[int, float] = (0, 0.0)  # calls accepted and not yet ended
    unrecorded: int = 0  # most calls accepted whose end the gateway had not yet answered
    callback_errors: int = 0


def targets(args: argparse.Namespace, baseline: Latency,
             phases: Sequence[Phase]) -> list[tuple[str, str, str, bool | None]]:
    rows: list[tuple[str, str, str, bool | None]] = [
        ("SMS webhook p99, before any outreach", f"< {P99_TARGET_MS:g} ms",
         f"{baseline.p99_ms:.1f} ms", baseline.p99_ms < P99_TARGET_MS)]
    for ph in phases:
        sms = ph.name == "SMS"
        configured = args.sms_per_second if sms else args.calls_per_second
        ratio = ph.rate.per_second / configured
        what = "messages" if sms else "calls"
        rows.append((f"{ph.name}: achieved rate, {what}/s (from {args.settle:g} s after the "
                     f"first to the last of {ph.rate.steady})", f"{configured:g} ± 2 %",
                     f"{ph.rate.per_second:.2f} ({ratio - 1:+.2%}; {ph.rate.overall:.2f} "
                     f"from the first; {ph.rate.windows_text()})",
                     abs(ratio - 1) <= RATE_TOLERANCE))
        rows.append((f"{ph.name}: {what} accepted by the stand-in / recipients, numbers "
                     "sent twice", "all, 0", f"{ph.accepted} / {ph.expected}, "
                     f"{ph.duplicates}", ph.accepted == ph.expected and not ph.duplicates))
        rows.append((f"{ph.name}: from `outreach start` to the first acceptance", "none set",
                     f"{ph.first_after:.1f} s", None))
        if not sms:
            peak, share = ph.concurrent
            rows.append(("calls: most in progress at once (accepted, not yet ended)",
                         f"≤ {args.max_concurrent_calls}",
                         f"{peak} ({share:.0%} of the time; {ph.unrecorded} counting until "
                         f"the gateway answered the end); {ph.callback_errors} call-backs "
                         "not 2xx", peak <= args.max_concurrent_calls
                         and not ph.callback_errors))
        mem = ph.memory
        rows.append((f"{ph.name}: worker + children VmRSS, highest in the first half -> "
                     "in the second (slope over all)",
                     f"flat (≤ +{FLAT_GROWTH:.0%})",
                     "too few samples" if mem is None else
                     f"{mem.first_peak_kib / MIB:.1f} -> "
                     f"{mem.second_peak_kib / MIB:.1f} MiB ({mem.growth:+.1%}; "
                     f"{mem.slope_mib_per_min:+.2f} MiB/min)", mem is not None and mem.flat))
        w = ph.webhooks
        times = (f"{w.p99_ms / baseline.p99_ms:.2f} x before" if 0 < baseline.p99_ms
                 < math.inf else f"before: {baseline.p99_ms:.1f} ms")
        rows.append((f"SMS webhook p99 at {args.webhook_rate:g} req/s during the {ph.name}"
                     + ("" if ph.overlapped else " (the send ended first: partly after it)"),
                     f"< {P99_TARGET_MS:g} ms", f"{w.p99_ms:.1f} ms ({times})",
                     w.p99_ms < P99_TARGET_MS and not w.non_2xx))
    return rows
