"""The booking site in a real headless Chromium, on its own origin, calling the live API.

The browser is the one of tests/e2e (its fixture is reused), with two differences: a
missing Chromium or chromedriver fails these tests instead of skipping them (the site
has no other test of its scripts), and screenshots go to CLINIC_SITE_ARTIFACTS (default:
clinic-site-artifacts in the temporary directory), where the measurements of the new
patient's booking are also written (site.json) unless CLINIC_SITE_RESULTS names a file.

The site is served by tools/site_server.py on a free port of 127.0.0.1 while the API is
pytest-django's live server on `localhost`: two origins, so every call is a real CORS
request, allowed only because the test puts the site's origin in CORS_ALLOWED_ORIGINS.
"""

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.cache import cache

from clinic.celery import app as celery_app
from tests.e2e.conftest import CHROMEDRIVER, CHROMIUM, browser, pytest_runtest_makereport
from tools.site_server import serve_in_thread

__all__ = ["browser", "pytest_runtest_makereport"]


@pytest.fixture(scope="session", autouse=True)
def browser_installed() -> None:
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.is_file()]
    if missing:
        pytest.fail(
            f"the booking site's browser tests need {' and '.join(missing)} "
            "(sudo apt-get install chromium chromium-driver)",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Screenshots, the measurements, and (via the e2e browser fixture) a failed page."""
    default = Path(tempfile.gettempdir()) / "clinic-site-artifacts"
    path = Path(os.environ.get("CLINIC_SITE_ARTIFACTS") or default)
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def site(live_server, settings) -> Iterator[str]:
    """The site's origin, allowed by the API's CORS settings and named in its emails."""
    server = serve_in_thread("127.0.0.1", 0, live_server.url)
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    settings.CORS_ALLOWED_ORIGINS = [origin]
    settings.SITE_URL = origin
    settings.WAITLIST_OFFER_URL = f"{origin}/#/offer/{{token}}"
    # Sign-in and registration are throttled per address, and every test comes from 127.0.0.1.
    cache.clear()
    # Emails leave from the worker: here its tasks run at once, in the live server's thread
    # of this process, so what they send lands in django.core.mail.outbox.
    celery_app.conf.task_always_eager = True
    try:
        yield origin
    finally:
        celery_app.conf.task_always_eager = False
        server.shutdown()
        server.server_close()
