"""The HTTP benchmark's phases: locust load against the server, each phase beside the
baseline it is judged against."""

from __future__ import annotations

from dataclasses import dataclass

from bench.load import Phase, Request, run_locust
from bench.report import Row
from bench.servers import HOST

WARMUP = 20  # untimed requests before a phase
UNTIL_THE_CLOCK = 100_000  # more requests than any phase sends in its time: the clock ends it


@dataclass
class Workload:
    """A phase beside its baseline, and what the run asked of it."""

    phase: Phase
    baseline_name: str
    baseline_figure: str
    ratio: float | None
    target: str
    passed: bool | None
    expected: dict[str, int] | None = None  # status -> count the phase must answer

    def row(self) -> Row:
        phase = self.phase
        unexpected = self.unexpected()
        return Row(
            workload=f"{phase.name} ({phase.users} users)",
            figure=f"{phase.throughput:,.0f} req/s, p95 {phase.p95_ms:.0f} ms",
            baseline=f"{self.baseline_name}: {self.baseline_figure}",
            ratio=self.ratio,
            target=self.target,
            passed=None if self.passed is None else self.passed and not unexpected,
        )

    def unexpected(self) -> dict[str, int]:
        if self.expected is None:
            return {}
        statuses = self.phase.statuses
        return {
            status: statuses.get(status, 0)
            for status in set(statuses) | set(self.expected)
            if statuses.get(status, 0) != self.expected.get(status, 0)
        }


def throughput_against(
    phase: Phase, baseline: Phase, *, target_ratio: float | None, expected_status: str
) -> Workload:
    ratio = round(phase.throughput / baseline.throughput, 3)
    return Workload(
        phase=phase,
        baseline_name=baseline.name,
        baseline_figure=f"{baseline.throughput:,.0f} req/s",
        ratio=ratio,
        target="-" if target_ratio is None else f">= {target_ratio}x",
        passed=None if target_ratio is None else ratio >= target_ratio,
        expected={expected_status: phase.requests},
    )


@dataclass
class Load:
    """Locust against one server: `users` users, `seconds` per phase unless told."""

    base_url: str
    users: int
    seconds: float

    def measure(
        self, name: str, requests: list[Request], users: int | None = None, seconds: float = 0
    ) -> Phase:
        phase = run_locust(
            name,
            self.base_url,
            requests,
            users=users or self.users,
            max_seconds=seconds or self.seconds,
        )
        print(
            f"  {name}: {phase.requests} requests in {phase.seconds:.1f} s, "
            f"{phase.throughput:.0f} req/s, p95 {phase.p95_ms:.1f} ms, "
            f"{phase.mean_bytes} bytes per answer, {phase.statuses}"
        )
        return phase


def queries_per_answer(path: str, token: str) -> int:
    """The SQL statements one GET of `path` runs, through Django's test client."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST=HOST)
    client.get(path)  # warm: the user's roles and the like
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    if response.status_code != 200:
        raise SystemExit(f"GET {path} answered {response.status_code}")
    return len(captured)
