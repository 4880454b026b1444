"""GET /healthz against the real PostgreSQL and Redis, and against real dead or silent ports."""

import copy
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis
from django.db import OperationalError, connections
from django.test import Client

pytestmark = pytest.mark.django_db

ALL_OK = {"status": "ok", "database": "ok", "redis": "ok"}


@pytest.fixture(autouse=True)
def _no_check_outlives_its_test() -> Iterator[None]:
    yield
    for thread in threading.enumerate():
        if thread.name.startswith("healthz-"):
            thread.join(10)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (it was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def silent_server() -> Iterator[int]:
    """A port that accepts connections (into its backlog) and never says a word."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


@contextmanager
def default_database_at(port: int) -> Iterator[None]:
    """Send new connections to the default database to 127.0.0.1:port.

    The health check opens a connection of its own from these settings; the test's open
    connection is not touched, and the settings are restored afterwards.
    """
    settings_dict = connections["default"].settings_dict
    saved = copy.deepcopy(settings_dict)
    options = {key: value for key, value in settings_dict["OPTIONS"].items() if key != "host"}
    settings_dict.update(HOST="127.0.0.1", PORT=str(port), OPTIONS=options)
    try:
        yield
    finally:
        settings_dict.clear()
        settings_dict.update(saved)


def failures(caplog: pytest.LogCaptureFixture, check: str) -> list[BaseException | None]:
    return [
        record.exc_info[1] if record.exc_info else None
        for record in caplog.records
        if record.name == "clinic.health" and record.args and record.args[0] == check
    ]


def test_ok_when_database_and_redis_answer(client: Client) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == ALL_OK
    assert "no-cache" in response["Cache-Control"]


def test_head_is_allowed_and_post_is_not(client: Client) -> None:
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


def test_503_when_redis_is_unreachable(client: Client, settings, caplog) -> None:
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "ok", "redis": "error"}
    [error] = failures(caplog, "redis")
    assert isinstance(error, redis.ConnectionError)


def test_503_when_database_is_unreachable(client: Client, caplog) -> None:
    with default_database_at(closed_port()):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "error", "redis": "ok"}
    [error] = failures(caplog, "database")
    assert isinstance(error, OperationalError)  # refused, not e.g. "database access not allowed"


def test_answers_within_the_timeout_when_dependencies_hang(client: Client, settings) -> None:
    settings.HEALTHCHECK_TIMEOUT_SECONDS = 0.5
    with silent_server() as db_port, silent_server() as redis_port:
        settings.REDIS_URL = f"redis://127.0.0.1:{redis_port}/0"
        with default_database_at(db_port):
            started = time.monotonic()
            response = client.get("/healthz")
            elapsed = time.monotonic() - started

    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "timeout"  # libpq would have waited 2s for the server
    assert body["redis"] in {"timeout", "error"}  # redis-py's own 0.5s socket timeout
    assert elapsed < 1.5


def test_not_redirected_to_https(settings) -> None:
    settings.SECURE_SSL_REDIRECT = True
    client = Client()  # builds its middleware now, with the setting on

    assert client.get("/healthz").status_code == 200
    assert client.get("/admin/").status_code == 301  # the rest of the site is redirected
