#!/usr/bin/env python3
"""Prove the README's `make run` the way a newcomer meets it: from this checkout, with no
DATABASE_URL or REDIS_URL, wait for the "running" banner, ask the web, the public API and
the admin for a page, see the worker and beat start, press Ctrl-C (SIGINT to the whole
foreground group, as a terminal does) and check that nothing it started is left running.

    python3 .ci/check_make_run.py [--timeout SECONDS]

Prints the seconds from the command to the banner; exits non-zero, naming what failed, when
any step does. The whole of make run's output is kept in test-artifacts/make-run.log.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOG = ROOT / "test-artifacts" / "make-run.log"
BANNER = "The clinic backend is running"
WORKER_READY = "ready."
BEAT_READY = "beat: Starting"
STOP_SECONDS = 40


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def running_pids() -> set[int]:
    return {int(proc.name) for proc in Path("/proc").glob("[0-9]*")}


def leftovers(already_running: set[int]) -> list[str]:
    """Processes from this checkout that make run started and left: servers, web, worker, beat.

    Whatever ran before make run (the shell that runs CI in this checkout, this script) is
    not make run's to stop.
    """
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if int(proc.name) in already_running:
                continue
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
            cwd = os.readlink(proc / "cwd")
        except (OSError, IndexError):
            continue
        if state != "Z" and (str(ROOT) in cmdline or (cwd == str(ROOT) and "python" in cmdline)):
            found.append(f"{proc.name}: {cmdline.strip()[:160]}")
    return found


class Output:
    """make run's output, line by line, into the log file and a list to search."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        self._lock = threading.Lock()
        LOG.parent.mkdir(exist_ok=True)
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        with LOG.open("w") as log:
            for raw in iter(stream.readline, b""):
                line = raw.decode("utf-8", "replace")
                log.write(line)
                log.flush()
                with self._lock:
                    self.lines.append(line)

    def has(self, text: str) -> bool:
        with self._lock:
            return any(text in line for line in self.lines)

    def wait_for(self, text: str, deadline: float, process: subprocess.Popen) -> bool:
        while time.monotonic() < deadline:
            if self.has(text):
                return True
            if process.poll() is not None:
                return self.has(text)
            time.sleep(0.2)
        return False

    def tail(self, count: int = 40) -> str:
        with self._lock:
            return "".join(self.lines[-count:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to the banner")
    args = parser.parse_args()

    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    port = free_port()
    env["PORT"] = str(port)
    base = f"http://127.0.0.1:{port}"
    failures: list[str] = []

    already_running = running_pids()
    started = time.monotonic()
    # Its own session, like a terminal's foreground job: Ctrl-C reaches make and every
    # process it started directly, devenv included.
    process = subprocess.Popen(
        ["make", "run"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    output = Output(process.stdout)
    try:
        if not output.wait_for(BANNER, started + args.timeout, process):
            failures.append(f"no banner within {args.timeout:.0f} s (exit {process.poll()})")
        else:
            to_banner = time.monotonic() - started
            print(f"make run: banner after {to_banner:.1f} s (install, migrate, seed included)")
            checks = {
                "/healthz": lambda body: json.loads(body).get("status") == "ok",
                "/api/v1/services/": lambda body: len(json.loads(body)) > 0,
                "/api/v1/locations/": lambda body: len(json.loads(body)) > 0,
                "/admin/login/": lambda body: b"csrfmiddlewaretoken" in body,
                "/api/schema/": lambda body: b"openapi" in body,
            }
            for path, looks_right in checks.items():
                status, body = get(base + path)
                ok = status == 200 and looks_right(body)
                print(f"  GET {path}: {status}{'' if ok else ' (unexpected answer)'}")
                if not ok:
                    failures.append(f"GET {path} answered {status}: {body[:200]!r}")
            ready_by = time.monotonic() + 60
            for name, text in (("worker", WORKER_READY), ("beat", BEAT_READY)):
                if output.wait_for(text, ready_by, process):
                    print(f"  {name}: started")
                else:
                    failures.append(f"{name} did not report {text!r}")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(STOP_SECONDS)
            print(f"  Ctrl-C: make run exited with {process.returncode}")
        except subprocess.TimeoutExpired:
            failures.append(f"make run still running {STOP_SECONDS} s after Ctrl-C")
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        time.sleep(1)
        left = leftovers(already_running)
        if left:
            failures.append("left running after Ctrl-C:\n    " + "\n    ".join(left))

    if failures:
        print(f"--- last lines of make run (all in {LOG}):\n{output.tail()}", file=sys.stderr)
        for failure in failures:
            print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    print("make run: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
