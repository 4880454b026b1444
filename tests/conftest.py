"""Personas and a small clinic shared by the test suite."""

import pytest

from tests.factories import PatientFactory, UserFactory

pytest_plugins = ["tests.fixtures.clinic"]


@pytest.fixture
def patient(db):
    """A patient who has not been seen yet (a new patient)."""
    return PatientFactory(first_name="Ada", last_name="Patient")


@pytest.fixture
def other_patient(db):
    return PatientFactory(first_name="Bea", last_name="Other")


@pytest.fixture
def reception_user(db):
    return UserFactory(email="reception@clinic.example", is_staff=True)
