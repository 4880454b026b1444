"""Personas for sign-in security: a receptionist and a patient who sign in with a password,
a clock that stands still until a test moves it, and fresh throttle counters."""

import pytest
from django.core.cache import cache
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.permissions import sync_role_group
from tests.factories import PatientFactory, UserFactory

PASSWORD = "correct horse battery staple"  # what UserFactory gives everyone
TOKEN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"
ADMIN_LOGIN = "/admin/login/"


@pytest.fixture(autouse=True)
def _clock(frozen_now):
    yield


@pytest.fixture(autouse=True)
def fresh_throttles():
    """Throttle counters live in Redis; each test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def desk(db):
    """A receptionist who uses the admin."""
    user = UserFactory(email="desk@clinic.example", is_staff=True)
    user.groups.add(sync_role_group("Reception"))
    return user


@pytest.fixture
def patient_login(db):
    return PatientFactory(user=UserFactory(email="zoe@example.com")).user


def enrol(user) -> TOTPDevice:
    """A confirmed authenticator-app device, as after enrolment."""
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def code_of(device: TOTPDevice) -> str:
    """The code the app shows now (the clock is frozen: move it 30 s for the next one)."""
    device.refresh_from_db()
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def admin_login(client, email: str, password: str = PASSWORD, code: str = ""):
    return client.post(
        ADMIN_LOGIN,
        {"username": email, "password": password, "otp_token": code, "next": "/admin/"},
        REMOTE_ADDR="203.0.113.7",
    )
