"""Admin personas: members of staff logged in to the admin with Django's test client, over
the one-location Melbourne clinic of tests/fixtures/clinic.py, its clock frozen at Monday
22 March 2027, 08:00 local.

Each persona is a login with `is_staff` (needed to enter the admin) in its role's group,
the group holding exactly its role's permissions (`accounts.permissions`). The group is
re-made from that one definition whenever a persona is built, because a transactional
test's flush deletes the groups that the migration made.
"""

import pytest
from django.test import Client

from accounts.models import User
from accounts.permissions import sync_role_group
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _clock_frozen(frozen_now):
    yield


def staff_member(email: str, role_group: str, user: User | None = None, **fields) -> User:
    """A login that can enter the admin as `role_group` (Reception, Practitioner, Manager)."""
    if user is None:
        user = UserFactory(email=email, is_staff=True, **fields)
    elif not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    user.groups.add(sync_role_group(role_group))
    return user


def admin_client(user: User) -> Client:
    """A test client logged in as `user`; the user is at `client.user`."""
    client = Client()
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def reception_staff_user(db) -> User:
    return staff_member(
        "desk@clinic.example", "Reception", first_name="Rita", last_name="Reception"
    )


@pytest.fixture
def reception_staff(reception_staff_user) -> Client:
    return admin_client(reception_staff_user)


@pytest.fixture
def manager_staff_user(db) -> User:
    return staff_member("manager@clinic.example", "Manager", first_name="Meg", last_name="Manager")


@pytest.fixture
def manager_staff(manager_staff_user) -> Client:
    return admin_client(manager_staff_user)


@pytest.fixture
def practitioner_staff_user(myotherapist) -> User:
    """Mia Myo, the clinic's myotherapist (a Practitioner record with a rota), as staff."""
    return staff_member(myotherapist.user.email, "Practitioner", user=myotherapist.user)


@pytest.fixture
def practitioner_staff(practitioner_staff_user) -> Client:
    return admin_client(practitioner_staff_user)
