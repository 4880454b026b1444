"""Personas with real JWTs, over the one-location Melbourne clinic of the appointments tests."""

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from tests.factories import PatientFactory, UserFactory


@pytest.fixture(autouse=True)
def _clock_frozen(frozen_now):
    yield


@pytest.fixture(autouse=True)
def fresh_throttles():
    """Throttle counters live in Redis; each test starts with none."""
    cache.clear()
    yield
    cache.clear()


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


def staff_user(email: str, group: str):
    user = UserFactory(email=email, is_staff=True)
    # get_or_create: a transactional test's flush removes the groups the migration made.
    user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


@pytest.fixture
def anonymous():
    return client_for()


@pytest.fixture
def patient_user(assessed_patient):
    assessed_patient.user = UserFactory(email="ari@example.com")
    assessed_patient.save()
    return assessed_patient.user


@pytest.fixture
def as_patient(patient_user):
    return client_for(patient_user)


@pytest.fixture
def other_patient_user(db):
    return PatientFactory(user=UserFactory(email="bea@example.com"), first_name="Bea").user


@pytest.fixture
def as_other_patient(other_patient_user):
    return client_for(other_patient_user)


@pytest.fixture
def new_patient_user(new_patient):
    new_patient.user = UserFactory(email="nia@example.com")
    new_patient.save()
    return new_patient.user


@pytest.fixture
def as_new_patient(new_patient_user):
    return client_for(new_patient_user)


@pytest.fixture
def reception(db):
    return staff_user("front@clinic.example", "Reception")


@pytest.fixture
def as_reception(reception):
    return client_for(reception)


@pytest.fixture
def manager(db):
    return staff_user("boss@clinic.example", "Manager")


@pytest.fixture
def as_manager(manager):
    return client_for(manager)


@pytest.fixture
def as_practitioner(myotherapist):
    myotherapist.user.groups.add(Group.objects.get_or_create(name="Practitioner")[0])
    return client_for(myotherapist.user)


@pytest.fixture
def as_other_practitioner(second_myotherapist):
    second_myotherapist.user.groups.add(Group.objects.get_or_create(name="Practitioner")[0])
    return client_for(second_myotherapist.user)
