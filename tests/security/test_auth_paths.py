"""Every way into the API, under every security-policy setting: who gets in (issue 13, item 6
and its machinery).

The doors: the token endpoint (with the code when the login has a device, and with the
password alone), a refresh of a sign-in made in the current state, a refresh of a sign-in
made before it (before the clinic required two-factor sign-in, or before the login set it
up), and the admin's session cookie (a session that passed the device, and one signed in
with the password alone); by policy off and on; by a device or none; by a patient, a
receptionist and a Manager who is not a superuser: 6 x 2 x 2 x 3 = 72 cases.

The rule they all follow (`accounts.two_factor.missing_second_factor`): a login with a
device gets in only through a sign-in that passed it; a member of staff gets in at all,
while the policy is on, only once they have a device.
"""

from datetime import timedelta

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from rest_framework.test import APIClient

from accounts.models import SecurityPolicy
from accounts.permissions import sync_role_group
from tests.factories import PatientFactory, UserFactory

from .conftest import PASSWORD, REFRESH, TOKEN, code_of, enrol

pytestmark = pytest.mark.django_db

ROLES = ["patient", "reception", "manager"]
PATHS = [
    "token with the code",
    "token with the password alone",
    "refresh of this sign-in",
    "refresh of an earlier sign-in",
    "session that passed the device",
    "session with the password alone",
]


def expected_to_get_in(path: str, *, policy: bool, device: bool, staff: bool) -> bool:
    must_enrol_first = policy and staff and not device
    if path in ("token with the code", "refresh of this sign-in", "session that passed the device"):
        return not must_enrol_first
    # The password alone, or a sign-in from before the device or the policy.
    return not device and not must_enrol_first


def login_of(role: str):
    if role == "patient":
        return PatientFactory(user=UserFactory(email="pat@example.com")).user
    user = UserFactory(email=f"{role}@clinic.example", is_staff=True)
    user.groups.add(sync_role_group(role.capitalize()))
    return user


def private_page(role: str) -> str:
    return "/api/v1/patients/me/" if role == "patient" else "/api/v1/patients/"


def sign_in(user, code: str | None = None):
    body = {"email": user.email, "password": PASSWORD}
    if code is not None:
        body["code"] = code
    return APIClient().post(TOKEN, body, format="json")


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def gets_in_by_refresh(refresh: str, role: str) -> bool:
    answer = APIClient().post(REFRESH, {"refresh": refresh}, format="json")
    if answer.status_code != 200:
        return False
    return bearer(answer.json()["access"]).get(private_page(role)).status_code == 200


def session_for(user, device) -> Client:
    """A session cookie as the admin's sign-in leaves it: passed the device, if given."""
    client = Client()
    client.force_login(user)
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def got_in(path: str, role: str, *, policy: bool, has_device: bool, frozen_now) -> bool:
    user = login_of(role)
    earlier = sign_in(user).json() if path == "refresh of an earlier sign-in" else None
    SecurityPolicy.objects.update_or_create(id=1, defaults={"require_two_factor_for_staff": policy})
    device = enrol(user) if has_device else None
    frozen_now.shift(timedelta(minutes=1))

    if path == "refresh of an earlier sign-in":
        return gets_in_by_refresh(earlier["refresh"], role)
    if path.startswith("token") or path == "refresh of this sign-in":
        with_code = path != "token with the password alone" and device is not None
        answer = sign_in(user, code_of(device) if with_code else None)
        if answer.status_code != 200:
            return False
        if path == "refresh of this sign-in":
            return gets_in_by_refresh(answer.json()["refresh"], role)
        return bearer(answer.json()["access"]).get(private_page(role)).status_code == 200
    verified = device if path == "session that passed the device" else None
    return session_for(user, verified).get(private_page(role)).status_code == 200


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("has_device", [False, True], ids=["no device", "device"])
@pytest.mark.parametrize("policy", [False, True], ids=["policy off", "policy on"])
@pytest.mark.parametrize("role", ROLES)
def test_who_gets_in(path, role, policy, has_device, frozen_now):
    expected = expected_to_get_in(path, policy=policy, device=has_device, staff=role != "patient")

    assert got_in(path, role, policy=policy, has_device=has_device, frozen_now=frozen_now) is (
        expected
    )
