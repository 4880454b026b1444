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
