"""What `make test` promises: pytest-xdist workers side by side on one PostgreSQL and one
Redis, each with a database and a Redis database of its own; and browser tests that say
plainly when they could not run, and fail instead where the browser is required (CI)."""

import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
READ_SETTINGS = """
import json
from django.conf import settings
print(json.dumps({
    "redis": settings.REDIS_URL,
    "cache": settings.CACHES["default"]["LOCATION"],
    "broker": settings.CELERY_BROKER_URL,
    "results": settings.CELERY_RESULT_BACKEND,
}))
"""


def redis_settings_of(worker: str) -> dict[str, str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "clinic.settings.test"}
    env.pop("PYTEST_XDIST_WORKER", None)
    if worker:
        env["PYTEST_XDIST_WORKER"] = worker
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {READ_SETTINGS}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_each_worker_uses_a_redis_database_of_its_own():
    """One worker's cache.clear() is a FLUSHDB: it must not empty another worker's cache,
    throttle counts or task queues."""
    first, second, alone = (redis_settings_of(w) for w in ("gw0", "gw1", ""))

    assert set(first.values()) == {first["redis"]} and first["redis"].endswith("/1")
    assert set(second.values()) == {second["redis"]} and second["redis"].endswith("/2")
    assert alone["redis"] == os.environ["REDIS_URL"]


def test_each_worker_has_a_test_database_of_its_own(db):
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    expected = f"test_clinic_{worker}" if worker else "test_clinic"
    assert settings.DATABASES["default"]["NAME"].endswith(expected)


def run_browser_tests_without_a_browser(*, required: bool) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "CLINIC_CHROMIUM": "/nonexistent/chromium",
        "CLINIC_REQUIRE_BROWSER": "1" if required else "0",
    }
    env.pop("PYTEST_XDIST_WORKER", None)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:xdist",
            "-p",
            "no:cacheprovider",
            "tests/e2e",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_without_a_browser_the_last_lines_say_what_did_not_run_and_how_to_install_it():
    result = run_browser_tests_without_a_browser(required=False)

    # The last lines but pytest's list of the skips, which grows with each browser test.
    lines = [line for line in result.stdout.strip().splitlines() if not line.startswith("SKIPPED")]
    last_lines = "\n".join(lines[-8:])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "browser tests did not run" in last_lines
    assert "sudo apt-get install chromium chromium-driver" in last_lines
    skipped = last_lines.splitlines()[-1].split()[0]
    assert last_lines.splitlines()[-1].startswith(f"{skipped} skipped")
    assert f"{skipped} end-to-end test(s) in a real browser were skipped" in last_lines


def test_where_the_browser_is_required_its_absence_fails_the_run():
    result = run_browser_tests_without_a_browser(required=True)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "CLINIC_REQUIRE_BROWSER=1" in result.stdout
    assert "skipped" not in result.stdout.strip().splitlines()[-1]
