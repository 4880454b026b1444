"""Production settings pass Django's deployment checklist, and every response carries the
security headers."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]


def test_check_deploy_passes_with_production_settings():
    """`manage.py check --deploy` with the production settings module and nothing but the
    environment a deployment must give it: no warning at all."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "SECURE_", "SESSION_", "DEBUG"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="clinic.settings.base",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="clinic.example",
    )

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/admin/login/", "/api/docs/", "/api/v1/services/", "/healthz"])
def test_every_response_carries_the_security_headers(path):
    response = Client().get(path, secure=True)

    assert response["Content-Security-Policy"].startswith("default-src 'self'; script-src 'self';")
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert "camera=()" in response["Permissions-Policy"]
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


@pytest.mark.django_db
def test_the_api_docs_run_no_inline_script():
    """The docs page passes `script-src 'self'`: its start-up script comes from a URL."""
    page = Client().get("/api/docs/").content.decode()
    scripts = page.count("<script")

    assert scripts and page.count("<script src=") == scripts
    script = Client().get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


@pytest.mark.django_db
def test_the_session_and_csrf_cookies_are_secure_and_http_only(desk):
    from .conftest import admin_login

    login_page = Client().get("/admin/login/", secure=True)
    response = admin_login(Client(), desk.email)

    csrf = login_page.cookies["csrftoken"]
    session = response.cookies["sessionid"]
    assert csrf["secure"] and csrf["httponly"]
    assert session["secure"] and session["httponly"]
