"""Registering, reading the links out of the emails sent, and following them."""

import re

import pytest
from django.core import mail

from clinic.celery import app as celery_app

REGISTER = "/api/v1/auth/register/"
TOKEN = "/api/v1/auth/token/"
ME = "/api/v1/patients/me/"
MY_EMAIL = "/api/v1/patients/me/email/"
VERIFY = "/api/v1/auth/verify-email/"
RESEND = "/api/v1/auth/verify-email/resend/"
RESET = "/api/v1/auth/password-reset/"
RESET_CONFIRM = "/api/v1/auth/password-reset/confirm/"
SITE = "https://book.clinic.example"
PASSWORD = "sciatica-free by spring"


def registration(**changes) -> dict:
    body = {
        "email": "zoe.runner@example.com",
        "password": PASSWORD,
        "first_name": "Zoe",
        "last_name": "Runner",
        "phone": "0412 345 678",
        "date_of_birth": "1991-04-02",
    }
    body.update(changes)
    return body


@pytest.fixture
def sends(settings, django_capture_on_commit_callbacks):
    """Emails leave as they would from a worker: the tasks queued on commit run at once.
    Call `sends(client.post, ...)` to make a request and send what it queued."""
    settings.SITE_URL = SITE
    celery_app.conf.task_always_eager = True

    def request(method, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return method(*args, **kwargs)

    yield request
    celery_app.conf.task_always_eager = False


def link_token(message, route: str) -> str:
    """The token of the link to the site's `route` in an email's plain-text body."""
    found = re.search(rf"{re.escape(SITE)}/#/{route}\?token=(\S+)", message.body)
    assert found, f"no {route} link in: {message.body}"
    return found.group(1)


def last_to(address: str):
    return [message for message in mail.outbox if message.to == [address]][-1]


def bearer(client, email: str, password: str = PASSWORD) -> str:
    tokens = client.post(TOKEN, {"email": email, "password": password})
    assert tokens.status_code == 200, tokens.json()
    return f"Bearer {tokens.json()['access']}"
