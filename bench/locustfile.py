"""The benchmarks' load generator: locust users that send a scripted list of requests.

bench/load.py runs this file in a locust process of its own (headless, FastHttpUser), so the
load does not share the measured server's process. BENCH_SCRIPT names a JSON file of
requests ({"method", "path", "headers", "body"}); the users take them in order, each once,
and the run ends when the list is used up (or at locust's --run-time). Every answer's status
and time go to BENCH_OUTPUT as JSON when locust quits: exact percentiles, not locust's
rounded ones, and the count of each status.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from itertools import count

import gevent
from locust import FastHttpUser, constant, events, task
from locust.exception import StopUser

with open(os.environ["BENCH_SCRIPT"]) as script:
    REQUESTS: list[dict] = json.load(script)
NEXT = count()
SAMPLES: list[float] = []
STATUSES: Counter = Counter()
SIZES: list[int] = []
WINDOW = {"first": None, "last": None}
ANSWERED = [0]


class ScriptedUser(FastHttpUser):
    wait_time = constant(0)  # closed loop: the next request as soon as the answer is in

    @task
    def next_request(self) -> None:
        number = next(NEXT)
        if number >= len(REQUESTS):
            raise StopUser()
        request = REQUESTS[number]
        began = time.time()
        if WINDOW["first"] is None:
            WINDOW["first"] = began
        with self.client.request(
            request["method"],
            request["path"],
            headers=request.get("headers"),
            data=request.get("body"),
            name=request.get("name", request["path"]),
            catch_response=True,
        ) as response:
            # Every answer is a measurement here; the caller judges the statuses.
            response.success()
            STATUSES[str(response.status_code or type(response.error).__name__)] += 1
            SIZES.append(len(response.content or b""))
        WINDOW["last"] = time.time()
        ANSWERED[0] += 1


@events.test_start.add_listener
def stop_when_answered(environment, **kwargs) -> None:
    """Quit once every request is answered, from a greenlet of its own: a user that asked
    the runner to quit would be waiting for itself to stop."""

    def watch() -> None:
        while ANSWERED[0] < len(REQUESTS):
            gevent.sleep(0.02)
        environment.runner.quit()

    gevent.spawn(watch)


@events.request.add_listener
def record(response_time: float, **kwargs) -> None:
    SAMPLES.append(response_time)


@events.quitting.add_listener
def write_results(environment, **kwargs) -> None:
    with open(os.environ["BENCH_OUTPUT"], "w") as output:
        json.dump(
            {
                "latencies_ms": SAMPLES,
                "statuses": dict(STATUSES),
                "sizes": SIZES,
                "first_sent": WINDOW["first"],
                "last_answered": WINDOW["last"],
            },
            output,
        )
