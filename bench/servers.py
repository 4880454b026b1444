"""What the benchmarks run the product with, as production runs it: gunicorn, a Celery worker
and beat, each in a process group of its own that the benchmark always stops, with the
environment that points them at the benchmark's database and Redis."""

from __future__ import annotations

import contextlib
import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench.common import BENCH_SECRET_KEY, ROOT, setup_django

HOST = "127.0.0.1"
# What setup_django_as_server copies from the server's environment: the same SECRET_KEY, so
# that tokens minted in the benchmark's process verify in the server's.
SERVER_SETTINGS = ("DJANGO_SETTINGS_MODULE", "SECRET_KEY", "ALLOWED_HOSTS", "SECURE_SSL_REDIRECT")


def project_path() -> str:
    """PYTHONPATH for a child process: the project first, so it runs this checkout."""
    return os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))


def server_environment(database_url: str) -> dict[str, str]:
    """Production settings, on the benchmark database, with the bench-only URLconf."""
    return dict(
        os.environ,
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="bench.settings",
        DEBUG="0",
        SECRET_KEY=os.environ.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(48),
        ALLOWED_HOSTS=HOST,
        SECURE_SSL_REDIRECT="false",
        LOG_LEVEL="ERROR",  # no log line per 4xx in the timed path
        PYTHONPATH=project_path(),
    )


def setup_django_as_server(env: dict[str, str]) -> None:
    """Django in this process as the server has it."""
    setup_django(env["DATABASE_URL"], **{name: env[name] for name in SERVER_SETTINGS})


def with_redis_db(redis_url: str, number: int) -> str:
    return urlunsplit(urlsplit(redis_url)._replace(path=f"/{number}"))


def worker_environment(database_url: str, redis_url: str) -> dict[str, str]:
    """Production settings for Celery on the benchmark's database and Redis; messages go to
    the outbox table."""
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=redis_url,
        CELERY_RESULT_BACKEND=redis_url,
        DJANGO_SETTINGS_MODULE="clinic.settings.base",
        DEBUG="0",
        NOTIFICATIONS_DELIVERY="outbox",
        LOG_LEVEL="WARNING",
        PYTHONPATH=project_path(),
    )
    if len(env.get("SECRET_KEY", "")) < 50:
        env["SECRET_KEY"] = BENCH_SECRET_KEY
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Background:
    """A command in a process group of its own, its output in `log_path`; `stop` ends it
    and whatever it started."""

    name = "the process"

    def __init__(self, command: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self.log = log_path.open("wb")
        self.process = subprocess.Popen(
            command,
            env=env,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def check(self) -> None:
        if self.process.poll() is not None:
            raise SystemExit(
                f"{self.name} exited with {self.process.returncode}; see {self.log_path}"
            )

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM (gunicorn and Celery then shut down warmly: the tasks and requests in
        hand are finished), SIGKILL for the group if that takes longer than `timeout` and
        for anything of the group left behind."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()


class Gunicorn(Background):
    """gunicorn serving `env`'s settings (bench/settings.py) on a free port of HOST."""

    name = "gunicorn"

    def __init__(self, env: dict[str, str], workers: int, log_path: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://{HOST}:{self.port}"
        command = [sys.executable, "-m", "gunicorn", "clinic.wsgi"]
        command += ["--workers", str(workers), "--bind", f"{HOST}:{self.port}"]
        command += ["--chdir", str(ROOT), "--timeout", "60"]
        super().__init__(command, env, log_path)

    def wait_until_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check()
            with contextlib.suppress(OSError):
                conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
                conn.request("GET", "/bench/trivial/")
                answered = conn.getresponse().status == 200
                conn.close()
                if answered:
                    return
            time.sleep(0.2)
        raise SystemExit(f"gunicorn did not answer within {timeout:.0f} s; see {self.log_path}")


class CeleryWorker(Background):
    """`celery -A clinic worker`, with the bench-only no-op tasks (bench/celery_noop.py)."""

    name = "the Celery worker"

    def __init__(self, env: dict[str, str], concurrency: int, log_path: Path) -> None:
        command = [sys.executable, "-m", "celery", "-A", "clinic", "worker"]
        command += ["-I", "bench.celery_noop", "--concurrency", str(concurrency)]
        command += ["--pool", env.get("BENCH_WORKER_POOL", "prefork")]
        command += ["--loglevel", env.get("BENCH_WORKER_LOGLEVEL", "WARNING")]
        command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        command += ["--hostname", f"bench-{os.getpid()}@%h"]
        super().__init__(command, env, log_path)

    def wait_until_ready(self, app, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check()
            if app.control.ping(timeout=0.5):
                return
        raise SystemExit(f"the worker did not answer within {timeout:.0f} s; see {self.log_path}")


class CeleryBeat(Background):
    """`celery -A clinic beat`, its schedule file in `folder`."""

    name = "Celery beat"

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        command = [sys.executable, "-m", "celery", "-A", "clinic", "beat", "--loglevel"]
        command += ["WARNING", "--schedule", str(folder / "beat-schedule")]
        super().__init__(command, env, folder / "beat.log")
