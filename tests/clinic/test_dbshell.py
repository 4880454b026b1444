"""`manage.py dbshell` (README: *Running one part at a time*) opens psql on the server the
application uses, the embedded PostgreSQL's unix socket included."""

import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def test_the_server_of_the_database_url_is_the_host_psql_is_given():
    database = settings.DATABASES["default"]

    assert database["HOST"], "dbshell passes only HOST to psql"
    assert "host" not in database.get("OPTIONS", {})


@pytest.mark.skipif(shutil.which("psql") is None, reason="psql is not installed")
def test_dbshell_reaches_the_server_the_application_uses(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_postmaster_start_time()::text || ' ' || current_database()")
        (server_and_database,) = cursor.fetchone()
    # The test database, which exists wherever the tests run (`clinic` may not).
    url = urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{connection.settings_dict['NAME']}")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "clinic.settings.test",
        "DATABASE_URL": urlunsplit(url),
    }

    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "dbshell",
            "--",
            "-X",
            "-A",
            "-t",
            "-c",
            "SELECT pg_postmaster_start_time()::text || ' ' || current_database()",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == server_and_database
