"""GET /healthz: can this instance serve requests? Checks the database and Redis.

Load balancers, orchestrators and uptime monitors call it often and without credentials,
so it is a plain Django view (no DRF, no session, no caching) that answers within
HEALTHCHECK_TIMEOUT_SECONDS whatever the dependencies do: each check runs in a thread of
its own and is abandoned, reported as "timeout", when it takes longer. Why a check failed
goes to the log, not to the caller.
"""

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping

import redis
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

OK = "ok"
ERROR = "error"
TIMEOUT = "timeout"


def check_database(timeout: float, alias: str = DEFAULT_DB_ALIAS) -> None:
    """Run SELECT 1 on a new connection (closed afterwards), so that a pooled connection
    cannot hide an outage and a hung check holds no connection of a request."""
    wrapper = connections.create_connection(alias)
    if wrapper.vendor == "postgresql":
        # libpq rounds connect_timeout to whole seconds and treats anything below 2 as 2.
        options = {
            **wrapper.settings_dict["OPTIONS"],
            "connect_timeout": max(2, math.ceil(timeout)),
        }
        wrapper.settings_dict = {**wrapper.settings_dict, "OPTIONS": options}
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        wrapper.close()


def check_redis(url: str, timeout: float) -> None:
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        client.ping()
    finally:
        client.close()


def run_checks(checks: Mapping[str, Callable[[], None]], timeout: float) -> dict[str, str]:
    """Run the checks in parallel; each one's result is "ok", "error" or "timeout"."""
    results = dict.fromkeys(checks, TIMEOUT)

    def run(name: str, check: Callable[[], None]) -> None:
        try:
            check()
        except Exception:
            logger.warning("Health check %r failed", name, exc_info=True)
            results[name] = ERROR
        else:
            results[name] = OK

    threads = [
        threading.Thread(target=run, args=item, name=f"healthz-{item[0]}", daemon=True)
        for item in checks.items()
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    outcome = dict(results)  # a late check must not change the answer while it is sent
    for name, result in outcome.items():
        if result == TIMEOUT:
            logger.warning("Health check %r did not answer within %.1fs", name, timeout)
    return outcome


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    timeout = float(settings.HEALTHCHECK_TIMEOUT_SECONDS)
    redis_url = settings.REDIS_URL
    results = run_checks(
        {
            "database": lambda: check_database(timeout),
            "redis": lambda: check_redis(redis_url, timeout),
        },
        timeout,
    )
    healthy = all(result == OK for result in results.values())
    return JsonResponse(
        {"status": OK if healthy else ERROR, **results}, status=200 if healthy else 503
    )
