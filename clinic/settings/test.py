"""Test overrides: the real PostgreSQL and Redis from the environment, fast hashing."""

import os

# Tests run with production-shaped settings (DEBUG off); give them a key of their own.
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-" + "x" * 40)
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")

from .base import *  # noqa: F403

# Argon2 stays the production hasher; tests create many users and need speed, not strength.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
CELERY_BEAT_SCHEDULE_FILENAME = "/tmp/clinic-test-celerybeat-schedule"
NOTIFICATIONS_DELIVERY = "outbox"
# The providers' callbacks are signed with these (tests sign their own callbacks with them).
ANYMAIL = {"WEBHOOK_SECRET": "anymail:test-webhook-secret"}
TWILIO_ACCOUNT_SID = "AC" + "0" * 32
TWILIO_AUTH_TOKEN = "test-twilio-auth-token"
WEBHOOK_BASE_URL = "https://api.clinic.example"
# django-axes announces itself at INFO in every process; under xdist that line lands after
# pytest's closing summary.
LOGGING["loggers"]["axes"] = {"level": "WARNING"}  # noqa: F405

# pytest-xdist's workers share one Redis server: each takes a database of its own, so that
# one worker's cache.clear() (FLUSHDB), throttle counts and queued tasks never reach
# another's. The Celery processes a test starts inherit the worker's name, hence its choice.
_xdist_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _xdist_worker.startswith("gw"):
    from urllib.parse import urlsplit, urlunsplit

    _redis_db = 1 + int(_xdist_worker[2:]) % 15
    REDIS_URL = urlunsplit(urlsplit(REDIS_URL)._replace(path=f"/{_redis_db}"))  # noqa: F405
    CACHES["default"]["LOCATION"] = REDIS_URL  # noqa: F405
    CELERY_BROKER_URL = CELERY_RESULT_BACKEND = REDIS_URL
