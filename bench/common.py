"""What every benchmark does first: a database of its own on DATABASE_URL's server, and
Django set up on it with production settings (DEBUG off).

Django is imported inside the functions: a benchmark's parent process may use these
helpers without ever setting Django up.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
# Production settings refuse a short SECRET_KEY; a benchmark's database holds nothing secret.
BENCH_SECRET_KEY = "benchmark-only-not-secret-" + "x" * 40


def with_database(url: str, name: str) -> str:
    """`url` with its database name replaced by `name`."""
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def create_database(server_url: str, name: str, *, drop_first: bool = False) -> bool:
    """Create database `name` on the server of `server_url` if missing (dropping it first if
    asked); return whether it was created. Talks to the server's `postgres` maintenance
    database, and refuses the database `server_url` itself names: a benchmark seeds its
    database and may drop it, which must never happen to the development data."""
    import psycopg
    from psycopg import sql

    if name in (database_name(server_url), "postgres"):
        raise SystemExit(
            f"Refusing to use {name!r} as a benchmark database: it is the database "
            "DATABASE_URL points at, or the server's maintenance database. Pick another name."
        )
    identifier = sql.Identifier(name)
    with psycopg.connect(
        with_database(server_url, "postgres"), autocommit=True, connect_timeout=10
    ) as conn:
        if drop_first:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier))
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(identifier))
        return True


def setup_django(database_url: str, **env: str) -> None:
    """Set Django up on `database_url` with production settings and DEBUG off (with it on,
    Django keeps every query in memory and timings drift), then migrate. `env` overrides
    or adds environment variables, e.g. DJANGO_SETTINGS_MODULE.

    Django reads its settings from the environment, so this points DATABASE_URL there at
    the benchmark's database: read the server's URL before. Django is set up once per
    process: a second call must name the same database."""
    import django
    from django.apps import apps

    if apps.ready:
        from django.conf import settings

        wanted = database_name(database_url)
        if settings.DATABASES["default"]["NAME"] != wanted:
            raise RuntimeError(
                f"Django is already set up on {settings.DATABASES['default']['NAME']!r}, "
                f"not {wanted!r}: run each benchmark database in a process of its own."
            )
    else:
        os.environ.update(
            DATABASE_URL=database_url,
            DJANGO_SETTINGS_MODULE="clinic.settings.base",
            DEBUG="0",
        )
        if len(os.environ.get("SECRET_KEY", "")) < 50:
            os.environ["SECRET_KEY"] = BENCH_SECRET_KEY
        os.environ.update(env)
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def postgresql_version() -> str:
    """The version of the server Django is connected to, for the reports."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]
