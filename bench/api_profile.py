"""`bench/api.py --profile`: where the HTTP paths spend their time, before any load.

Each workload of the HTTP benchmark runs in this process through Django's test client, as
gunicorn would serve it (the same settings, the same database), under cProfile: the top
functions by own time, and the SQL statements one request sends. What is slow under load
shows here without the noise of locust and of other processes sharing the cores.

Import after `django.setup()`.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import time
from collections.abc import Callable
from dataclasses import dataclass

from bench.servers import HOST

TOP_FUNCTIONS = 25
_APPS = "accounts|appointments|audit|care|diary|kernel|notifications|patients|practice|records|"
_APPS += "treatments"
_PROJECT_CODE = rf"^(?!.*site-packages).*/({_APPS})/"


@dataclass
class Path:
    """One request to profile: a name, and how to send it with a client."""

    name: str
    send: Callable[[object, int], object]  # (client, n-th call) -> response
    status: int


def get(path: str, token: str | None = None) -> Callable[[object, int], object]:
    return lambda client, n: client.get(path, **_auth(token))


def post_each(path: str, bodies: list[tuple[dict, str]]) -> Callable[[object, int], object]:
    """The n-th call posts the n-th (body, token): bookings need a slot each."""
    return lambda client, n: client.post(
        path, bodies[n][0], content_type="application/json", **_auth(bodies[n][1])
    )


def post_each_to(requests: list[tuple[str, dict, str]]) -> Callable[[object, int], object]:
    """The n-th call posts the n-th (path, body, token): a move each."""
    return lambda client, n: client.post(
        requests[n][0], requests[n][1], content_type="application/json", **_auth(requests[n][2])
    )


def statements_of(path: Path, n: int = 0) -> list[str]:
    """The SQL statements the `n`-th call of `path` sends (BEGIN and COMMIT left out)."""
    from django.db import connection
    from django.test import Client

    statements: list[str] = []
    with connection.execute_wrapper(_recording(statements)):
        response = path.send(Client(HTTP_HOST=HOST), n)
    if response.status_code != path.status:
        raise SystemExit(f"{path.name}: {response.status_code} {response.content[:300]!r}")
    return statements


def _recording(statements: list[str]) -> Callable:
    """A database execute wrapper that keeps the SQL of every statement it sees (BEGIN and
    COMMIT do not pass through it)."""

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    return record


def _timing(waited: list[float]) -> Callable:
    """A database execute wrapper that adds each statement's wall time, in ms, to
    `waited[i]` for the i-th statement of the request (from sending it to its whole result
    arriving; a request sending more statements than the first one did adds the extra
    ones to the last)."""
    position = iter(range(len(waited)))

    def timed(execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            waited[min(next(position, len(waited) - 1), len(waited) - 1)] += (
                time.perf_counter() - began
            ) * 1000

    return timed


def _auth(token: str | None) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}


def profile(paths: list[Path], calls: int) -> dict[str, dict]:
    """Each path `calls` times timed, then `calls` times under cProfile (after one untimed
    call): prints the top functions and returns ms per call (unprofiled: wall clock, and
    this process's CPU, which the database's work and other processes do not count in) and
    statements per call, by path. A `send` gets the call's number: 0 to 2 * calls + 1."""
    from django.db import connection
    from django.test import Client

    client = Client(HTTP_HOST=HOST)
    figures = {}
    for path in paths:
        path.send(client, 0)  # warm: imports, the user's first token check, prepared plans
        statements = statements_of(path, 1)
        waited = [0.0] * len(statements)
        began, began_cpu = time.perf_counter(), time.process_time()
        for n in range(2, calls + 2):
            with connection.execute_wrapper(_timing(waited)):
                path.send(client, n)
        ms = (time.perf_counter() - began) * 1000 / calls
        cpu_ms = (time.process_time() - began_cpu) * 1000 / calls
        profiler = cProfile.Profile()
        profiler.enable()
        for n in range(calls + 2, 2 * calls + 2):
            path.send(client, n)
        profiler.disable()
        figures[path.name] = {
            "ms_per_call": round(ms, 2),
            "python_cpu_ms_per_call": round(cpu_ms, 2),
            "statements": len(statements),
        }
        print(
            f"\n=== {path.name}: {ms:.2f} ms per call in-process ({cpu_ms:.2f} ms of this "
            "process's CPU), "
            f"{figures[path.name]['statements']} SQL statements"
        )
        print(
            "".join(
                f"  SQL {total / calls:6.2f} ms: {statement[:140]}\n"
                for statement, total in zip(statements, waited, strict=True)
            )
        )
        listing = io.StringIO()
        stats = pstats.Stats(profiler, stream=listing)
        stats.sort_stats("tottime").print_stats(TOP_FUNCTIONS)
        # The project's own functions by time spent inside them and what they call.
        stats.sort_stats("cumulative").print_stats(_PROJECT_CODE, TOP_FUNCTIONS)
        print(listing.getvalue())
    return figures
