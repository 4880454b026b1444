"""The one load runner of the benchmarks.

- In process: `time_calls` calls each of a set of workloads in turn, `runs` times, each call
  returning the milliseconds it took (`timed` makes one of a plain function; a call that
  must leave set-up or a rollback off the clock times itself with `elapsed_ms`).
- Over HTTP: `start_locust` runs locust headless in a process of its own, so the load does
  not share the measured server's process; `run_locust` sends a scripted list of requests
  through bench/locustfile.py and returns the figures of that phase.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from bench.stats import spread

ROOT = Path(__file__).resolve().parent.parent
LOCUSTFILE = ROOT / "bench" / "locustfile.py"


# In process ---------------------------------------------------------------------------

Call = Callable[[], float | None]  # the milliseconds it took; None: refused, not timed


@dataclass
class Timings:
    ms: list[float] = field(default_factory=list)
    refused: int = 0


def elapsed_ms(began: float) -> float:
    """Milliseconds since `began`, a `time.perf_counter()` reading."""
    return (time.perf_counter() - began) * 1000


def timed(function: Callable[[], object]) -> Call:
    def call() -> float:
        began = time.perf_counter()
        function()
        return elapsed_ms(began)

    return call


def time_calls(calls: Mapping[str, Call], runs: int, *, warmup: int = 0) -> dict[str, Timings]:
    """Each call `warmup` times untimed, then `runs` times, the calls taking turns: a burst
    of load on a shared machine falls on each of them alike."""
    for _ in range(warmup):
        for call in calls.values():
            call()
    timings = {name: Timings() for name in calls}
    for _ in range(runs):
        for name, call in calls.items():
            ms = call()
            if ms is None:
                timings[name].refused += 1
            else:
                timings[name].ms.append(ms)
    return timings


# Over HTTP ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None


def get(path: str, token: str | None = None) -> Request:
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return Request("GET", path, headers)


def post(path: str, body: dict, token: str) -> Request:
    headers = {
        "Accept": "application/json",
        "Content-Type": "application/json",
        "Authorization": f"Bearer {token}",
    }
    return Request("POST", path, headers, json.dumps(body))


@dataclass
class Phase:
    name: str
    users: int
    requests: int
    seconds: float
    throughput: float
    p50_ms: float
    p95_ms: float
    max_ms: float
    mean_bytes: int
    statuses: dict[str, int]


def start_locust(
    locustfile: Path,
    base_url: str,
    *,
    users: int,
    spawn_rate: int,
    seconds: float,
    stop_timeout: int,
    env: Mapping[str, str],
    output: IO | int = subprocess.PIPE,
) -> subprocess.Popen:
    """locust, headless, `users` users for `seconds` at most, printing only errors and
    its summary to `output`."""
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(locustfile),
        "--headless",
        "--host",
        base_url,
        "--users",
        str(users),
        "--spawn-rate",
        str(spawn_rate),
        "--run-time",
        f"{seconds:.0f}s",
        "--stop-timeout",
        str(stop_timeout),
        "--only-summary",
        "--loglevel",
        "ERROR",
    ]
    return subprocess.Popen(
        command, env=dict(env), stdout=output, stderr=subprocess.STDOUT, text=True
    )


def run_locust(
    name: str, base_url: str, requests: list[Request], *, users: int, max_seconds: float
) -> Phase:
    """Send `requests` in order from `users` concurrent locust users (a closed loop: each
    sends its next request when the answer to its last is in), each request once, until
    the list is used up or `max_seconds` have passed."""
    with tempfile.TemporaryDirectory(prefix="bench-load-") as folder:
        script, output = Path(folder) / "script.json", Path(folder) / "output.json"
        script.write_text(
            json.dumps(
                [
                    {"method": r.method, "path": r.path, "headers": r.headers, "body": r.body}
                    | {"name": name}
                    for r in requests
                ]
            )
        )
        locust = start_locust(
            LOCUSTFILE,
            base_url,
            users=users,
            spawn_rate=max(users, 100),  # everyone at once
            seconds=max_seconds,
            stop_timeout=30,
            env=dict(os.environ, BENCH_SCRIPT=str(script), BENCH_OUTPUT=str(output)),
        )
        try:
            printed, _ = locust.communicate(timeout=max_seconds + 120)
        except subprocess.TimeoutExpired:
            locust.kill()
            raise SystemExit(f"{name}: locust did not stop") from None
        if not output.exists():
            raise SystemExit(f"{name}: locust wrote no results\n{printed[-2000:]}")
        recorded = json.loads(output.read_text())
    latencies = recorded["latencies_ms"]
    if not latencies:
        raise SystemExit(f"{name}: no request was answered")
    seconds = max(recorded["last_answered"] - recorded["first_sent"], 1e-3)
    return Phase(
        name=name,
        users=users,
        requests=len(latencies),
        seconds=round(seconds, 2),
        throughput=round(len(latencies) / seconds, 1),
        **spread(latencies),
        mean_bytes=round(statistics.fmean(recorded["sizes"])) if recorded["sizes"] else 0,
        statuses=dict(sorted(recorded["statuses"].items())),
    )
