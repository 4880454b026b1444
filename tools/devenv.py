#!/usr/bin/env python3
"""The development environment behind `make run` and `make test`: nothing to install or start.

PostgreSQL and Redis are started for the length of a command when DATABASE_URL or REDIS_URL
is unset (tools/servers.py), and used as they are when set; the commands' processes are run
and stopped by tools/processes.py.

    python tools/devenv.py run               migrate, seed, demo logins; web + site + worker + beat
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
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `tools` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.processes import (
    ROOT,
    DevenvError,
    Supervisor,
    check_step,
    log,
    raise_system_exit,
    run_foreground,
)
from tools.servers import RUN_STATE, running_run_state, services

DEMO_EMAIL = "manager@clinic.example"
DEMO_PASSWORD = "clinic-demo-manager"
PYTHON = sys.executable
MANAGE = [PYTHON, str(ROOT / "manage.py")]
READY_TIMEOUT_SECONDS = 60.0


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


def demo_logins(env: Mapping[str, str]) -> list[dict[str, str]]:
    """Create or reset a login for each role of the demo clinic (`manage.py demo_logins`,
    the superuser's from DJANGO_SUPERUSER_EMAIL/PASSWORD in `env`); what it made."""
    step = "manage.py demo_logins: a login for each role (development passwords)"
    log(step)
    result = subprocess.run(
        [*MANAGE, "demo_logins", "--json"],
        env=dict(env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        raise DevenvError(f"{step}: failed with exit status {result.returncode}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def banner(base_url: str, site_url: str, logins: Sequence[Mapping[str, str]], health: int) -> str:
    rule = "=" * 72
    health_note = "ok" if health == 200 else f"HTTP {health}: see the web output above"
    return "\n".join(
        [
            "",
            rule,
            "  The clinic backend is running (DEBUG=1).",
            "",
            f"  Booking:   {site_url}/ (the patients' site, on its own origin)",
            f"  Admin:     {base_url}/admin/",
            f"  API docs:  {base_url}/api/docs/ (sign in: POST /api/v1/auth/token/)",
            f"  Health:    {base_url}/healthz ({health_note})",
            "",
            "  Logins (development passwords: never use them anywhere else):",
            *(
                f"    {login['role']:<34} {login['email']:<36} {login['password']}"
                f"  ({login['where']})"
                for login in logins
            ),
            "",
            "  In another terminal: make shell, or",
            '  eval "$(python tools/devenv.py env)" to use these servers yourself.',
            "  Ctrl-C stops web, site, worker, beat, PostgreSQL and Redis.",
            rule,
            "",
        ]
    )


def site_settings(env: dict[str, str], site_url: str) -> dict[str, str]:
    """What the API needs to know of the booking site it serves beside itself: its address,
    for the links in account emails and, through it, the origin CORS lets call the API
    (clinic/settings). A SITE_URL already set wins; otherwise another SITE_PORT would leave
    the site's calls refused by the browser."""
    return {"SITE_URL": env.get("SITE_URL") or site_url}


def cmd_run() -> int:
    port = os.environ.get("PORT", "8000")
    base_url = f"http://127.0.0.1:{port}"
    site_port = os.environ.get("SITE_PORT", "8001")
    site_url = f"http://127.0.0.1:{site_port}"
    email = os.environ.get("DJANGO_SUPERUSER_EMAIL", DEMO_EMAIL)
    password = os.environ.get("DJANGO_SUPERUSER_PASSWORD", DEMO_PASSWORD)
    with services() as env:
        env["DEBUG"] = "1"
        env.update(site_settings(env, site_url))
        check_step("manage.py migrate", [*MANAGE, "migrate", "--noinput"], env)
        if has_management_command("seed_demo", env):
            check_step("manage.py seed_demo", [*MANAGE, "seed_demo"], env)
        else:
            log("manage.py seed_demo: no such command yet, skipped")
        logins = demo_logins(
            {**env, "DJANGO_SUPERUSER_EMAIL": email, "DJANGO_SUPERUSER_PASSWORD": password}
        )

        supervisor = Supervisor(env)
        supervisor.add("web", [*MANAGE, "runserver", f"127.0.0.1:{port}"])
        supervisor.add(
            "site",
            [PYTHON, str(ROOT / "tools/site_server.py"), "--port", site_port, "--api", base_url],
        )
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
            supervisor.write(banner(base_url, site_url, logins, health))
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
