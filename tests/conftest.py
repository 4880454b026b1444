"""Personas and a small clinic shared by the test suite."""

import pytest

from tests.factories import PatientFactory, UserFactory

pytest_plugins = [
    "tests.fixtures.clinic",
    "tests.fixtures.api_clients",
    "tests.fixtures.admin_clients",
]

# The skip reason of a browser test on a machine without Chromium; the closing summary
# below counts the skips that carry it.
BROWSER_MISSING = "no browser for the end-to-end tests"
BROWSER_INSTALL = "sudo apt-get install chromium chromium-driver"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Say plainly, in the last lines of `make test`, that the browser tests did not run."""
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if BROWSER_MISSING in str(getattr(report, "longrepr", ""))
    ]
    if not skipped:
        return
    terminalreporter.section("browser tests did not run", sep="=", yellow=True, bold=True)
    terminalreporter.line(
        f"{len(skipped)} end-to-end test(s) in a real browser were skipped: this machine has "
        "no chromium and chromedriver."
    )
    terminalreporter.line(f"Install them with:  {BROWSER_INSTALL}")
    terminalreporter.line("then run `make test` again (CI installs them and requires them).")


@pytest.fixture
def patient(db):
    """A patient who has not been seen yet (a new patient)."""
    return PatientFactory(first_name="Ada", last_name="Patient")


@pytest.fixture
def other_patient(db):
    return PatientFactory(first_name="Bea", last_name="Other")


@pytest.fixture
def reception_user(db):
    return UserFactory(email="reception@clinic.example", is_staff=True)
