"""Closed-loop load with wrk: pre-signed webhooks replayed from a file by a Lua script.

Each wrk thread loads its share of the requests (every n-th line) at start-up, sends each
once, and stops when it has as many responses, leaving a marker file; once every thread
has, we send wrk SIGINT, which ends its wait early and makes it print its summary (with
the real elapsed time) through the script's done(). wrk's -d is the upper bound. Requests
asked for beyond a thread's share (at most its connections - 1, at the very end) repeat
its last webhook, which the gateway treats as a Twilio retry.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench._traffic import SMS_PATH, Signed

LUA = r"""
local data_file = %(data_file)s
local host = %(host)s
local path = %(path)s
local nthreads = %(threads)d
local marker_prefix = %(marker_prefix)s
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

local reqs, nreq, sent, received
statuses, replies = {}, 0  -- globals: read by done() through thread:get()

function init(args)
  reqs = {}
  local i = 0
  for line in io.lines(data_file) do
    if i %% nthreads == tid - 1 then
      local sig, sid, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
      reqs[#reqs + 1] = wrk.format("POST", path, {
        ["Host"] = host,
        ["User-Agent"] = "TwilioProxy/1.1",
        ["Accept"] = "*/*",
        ["Content-Type"] = "application/x-www-form-urlencoded",
        ["X-Twilio-Signature"] = sig,
        ["I-Twilio-Idempotency-Token"] = sid,
      }, body)
    end
    i = i + 1
  end
  nreq, sent, received, replies = #reqs, 0, 0, 0
  statuses = {}
end

function request()
  sent = sent + 1
  if sent <= nreq then return reqs[sent] end
  return reqs[nreq]
end

function response(status, headers, body)
  received = received + 1
  statuses[status] = (statuses[status] or 0) + 1
  if body and string.find(body, "<Message", 1, true) then replies = replies + 1 end
  if received == nreq then
    local marker = io.open(marker_prefix .. tid, "w")
    if marker then marker:close() end
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d %%d %%d %%d %%d %%.1f\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max, latency.mean))
  for _, t in ipairs(threads) do
    for code, n in pairs(t:get("statuses")) do
      io.write(string.format("STATUS %%d %%d\n", code, n))
    end
    io.write(string.format("REPLIES %%d\n", t:get("replies")))
  end
end
"""


@dataclass
class WrkResult:
    completed: int = 0
    seconds: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    mean_ms: float = 0.0
    errors: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    replies: int = 0

    @property
    def rate(self) -> float:
        return self.completed / self.seconds if self.seconds > 0 else 0.0


def available() -> str | None:
    return shutil.which("wrk")


def run(workdir: Path, name: str, host: str, requests: Sequence[Signed], *, connections: int,
        threads: int, max_seconds: int, timeout_s: int = 15, path: str = SMS_PATH) -> WrkResult:
    """`requests` replayed to `path` (every request to the same path and query)."""
    wrk = available()
    if wrk is None:
        raise RuntimeError("wrk is not installed (apt-get install -y wrk)")
    data = workdir / f"{name}.requests.tsv"
    with data.open("w", encoding="ascii") as out:
        for item in requests:
            out.write(f"{item.signature}\t{item.sms.sid}\t{item.body.decode('ascii')}\n")
    script = workdir / f"{name}.lua"
    values = {"data_file": json.dumps(str(data)), "host": json.dumps(host),
              "path": json.dumps(path), "threads": threads,
              "marker_prefix": json.dumps(str(workdir / f"{name}.done."))}
    script.write_text(LUA % values, encoding="utf-8")
    command = [wrk, "-t", str(threads), "-c", str(connections), "-d", f"{max_seconds}s",
               "--timeout", f"{timeout_s}s", "-s", str(script), f"http://{host}{path}"]
    markers = [workdir / f"{name}.done.{tid}" for tid in range(1, threads + 1)]
    for marker in markers:
        marker.unlink(missing_ok=True)
    with subprocess.Popen(command, stdout=subprocess.PIPE,  # noqa: S603 - fixed argv
                          stderr=subprocess.PIPE, text=True) as process:
        deadline = time.monotonic() + max_seconds + 60
        while process.poll() is None and time.monotonic() < deadline:
            if all(marker.exists() for marker in markers):
                process.send_signal(signal.SIGINT)  # all done: stop waiting out -d
                break
            time.sleep(0.01)
        try:
            stdout, stderr = process.communicate(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed ({process.returncode}): {stderr or stdout}")
    return parse(stdout)


def parse(output: str) -> WrkResult:
    result = WrkResult()
    for line in output.splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "RESULT":
            (requests, duration_us, connect, read, write, status, timeout,
             p50, p99, latency_max) = (int(p) for p in parts[1:11])
            result.completed = requests
            result.seconds = duration_us / 1e6
            result.p50_ms, result.p99_ms = p50 / 1000, p99 / 1000
            result.max_ms, result.mean_ms = latency_max / 1000, float(parts[11]) / 1000
            for key, value in (("connect", connect), ("read", read), ("write", write),
                               ("timeout", timeout)):
                if value:
                    result.errors[key] += value
            del status  # non-2xx are counted per code below
        elif parts[0] == "STATUS":
            result.statuses[int(parts[1])] += int(parts[2])
        elif parts[0] == "REPLIES":
            result.replies += int(parts[1])
    if not result.completed and not result.seconds:
        raise RuntimeError(f"no RESULT line in wrk's output:\n{output}")
    return result
