"""Sending load for the HTTP benchmarks: a locust process of its own (bench/locustfile.py),
and the figures of one phase from what it recorded."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCUSTFILE = ROOT / "bench" / "locustfile.py"


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


def percentile(samples: list[float], q: int) -> float:
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


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
        command = [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(LOCUSTFILE),
            "--headless",
            "--host",
            base_url,
            "--users",
            str(users),
            "--spawn-rate",
            str(max(users, 100)),  # everyone at once
            "--run-time",
            f"{max_seconds:.0f}s",
            "--stop-timeout",
            "30",
            "--only-summary",
            "--loglevel",
            "ERROR",
        ]
        env = dict(os.environ, BENCH_SCRIPT=str(script), BENCH_OUTPUT=str(output))
        finished = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=max_seconds + 120
        )
        if not output.exists():
            raise SystemExit(f"{name}: locust wrote no results\n{finished.stderr[-2000:]}")
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
        p50_ms=round(percentile(latencies, 50), 2),
        p95_ms=round(percentile(latencies, 95), 2),
        max_ms=round(max(latencies), 2),
        mean_bytes=round(statistics.fmean(recorded["sizes"])) if recorded["sizes"] else 0,
        statuses=dict(sorted(recorded["statuses"].items())),
    )
