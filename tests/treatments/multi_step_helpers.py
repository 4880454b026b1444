"""What the multi-step tests share. They play the clinical rules that span requests as HTTP
sequences through the API (JWT and the session cookie) and the admin, as the clinic's
people do them; the test classes inherit those people from `ClinicStaff`.

The clinic's clock is frozen at Monday 22 March 2027, 08:00 in Melbourne.
"""

from datetime import timedelta

import pytest
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.permissions import sync_role_group
from tests.factories import UserFactory
from tests.fixtures.clinic import TODAY

APPOINTMENTS = "/api/v1/appointments/"
INTAKES = "/api/v1/intakes/"
TUESDAY, WEDNESDAY, FRIDAY = (TODAY + timedelta(days=n) for n in (1, 2, 4))
ANSWERS = {
    "complaint": "Lower back pain down the left leg",
    "symptom_locations": ["lower_back", "leg_left"],
    "sciatica_symptoms": ["numbness_burning_tingling"],
    "pain_score": 8,
    "duration": "acute",
    "activity": "seasoned_runner",
    "goals": "Walk without pain",
}
CAUDA_EQUINA = ["bladder_bowel_change", "saddle_numbness"]


def member_of(group: str, user=None, **fields):
    """A login in a role group that holds exactly the role's permissions, with `is_staff`."""
    user = user or UserFactory(is_staff=True, **fields)
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    user.groups.add(sync_role_group(group))
    return user


def jwt_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


def cookie_client(user) -> APIClient:
    """Signed in with the session cookie, as after an admin login (no token)."""
    client = APIClient()
    client.force_login(user)
    return client


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def error_code(response) -> str | None:
    return response.json().get("code")


class ClinicStaff:
    """The frozen clock, and the practitioner, the receptionist and the manager (not a
    superuser) as role-group members who sign in."""

    @pytest.fixture(autouse=True)
    def _clock_frozen(self, frozen_now):
        yield

    @pytest.fixture
    def practitioner(self, myotherapist):
        return member_of("Practitioner", user=myotherapist.user)

    @pytest.fixture
    def reception(self, db):
        return member_of("Reception", email="desk@clinic.example")

    @pytest.fixture
    def manager(self, db):
        """A Manager-group member who is not a superuser."""
        user = member_of("Manager", email="boss@clinic.example")
        assert not user.is_superuser
        return user
