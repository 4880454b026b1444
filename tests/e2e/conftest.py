"""A real headless Chromium (Debian's chromium and chromium-driver) driven by Selenium.

The browser tests run wherever chromium and chromedriver are installed. On a machine
without them they are skipped with the reason that `make test` repeats in its last lines
(`pytest_terminal_summary` in tests/conftest.py), unless CLINIC_REQUIRE_BROWSER=1, as in
`.ci/run`: then a missing browser fails them. Each test gets a fresh browser with a
throw-away profile, quit however the test ends; a test that fails leaves a screenshot of
the page it was on in test-artifacts/.
"""

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service

from accounts.permissions import sync_role_group
from tests.conftest import BROWSER_MISSING
from tests.e2e.pages import PASSWORD
from tests.factories import PatientFactory, UserFactory

# CLINIC_CHROMIUM / CLINIC_CHROMEDRIVER name a browser installed elsewhere.
CHROMIUM = Path(
    os.environ.get("CLINIC_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
)
CHROMEDRIVER = Path(
    os.environ.get("CLINIC_CHROMEDRIVER") or shutil.which("chromedriver") or "/usr/bin/chromedriver"
)
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
WINDOW = (1400, 1000)
PAGE_LOAD_SECONDS = 20

CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so fixtures can tell that the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session", autouse=True)
def browser_installed() -> None:
    """Before any database or live server is set up: without the browser there is nothing
    these tests can do, so they are skipped, or fail where the browser is required."""
    missing = [path.name for path in (CHROMIUM, CHROMEDRIVER) if not path.is_file()]
    if missing:
        reason = f"{BROWSER_MISSING}: {' and '.join(missing)} not installed"
        if os.environ.get("CLINIC_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason} (CLINIC_REQUIRE_BROWSER=1)", pytrace=False)
        pytest.skip(reason)


@pytest.fixture
def browser(request, artifacts_dir) -> Iterator[webdriver.Chrome]:
    profile = tempfile.mkdtemp(prefix="clinic-e2e-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    # An explicit driver path: Selenium Manager never runs, nothing is downloaded.
    service = Service(executable_path=str(CHROMEDRIVER))
    driver = None
    try:
        driver = webdriver.Chrome(service=service, options=options)
        driver.set_window_size(*WINDOW)
        driver.set_page_load_timeout(PAGE_LOAD_SECONDS)
        yield driver
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            with contextlib.suppress(WebDriverException):
                driver.save_screenshot(str(artifacts_dir / f"failed-{request.node.name}.png"))
    finally:
        if driver is not None:
            driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def front_desk(transactional_db):
    """A receptionist: staff login, in the Reception group, no permissions of their own.

    sync_role_group gives the group the permissions of the accounts migration again: an
    earlier transactional test's flush removes the migration's groups.
    """
    user = UserFactory(
        email="desk@clinic.example",
        first_name="Rita",
        last_name="Reception",
        is_staff=True,
        password=PASSWORD,
    )
    user.groups.add(sync_role_group("Reception"))
    return user


@pytest.fixture
def zebedee(db):
    """A patient nobody could mistake for another."""
    return PatientFactory(first_name="Zebedee", last_name="Quillfeather")
