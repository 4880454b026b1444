"""Processes for the development environment: starting, watching and stopping them.

`run_foreground` runs one command to its end in our process group; `Supervisor` runs web,
worker and beat side by side, each in a group of its own, and stops them together. On
Linux every child is asked to die with devenv (`die_with_parent`), even if it is killed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
STOP_TIMEOUT_SECONDS = 10.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


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
