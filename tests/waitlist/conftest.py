"""Waitlist tests run on the frozen clock of tests/fixtures/clinic.py (Monday 22 March 2027,
08:00 in Melbourne), over the one-location clinic."""

from datetime import timedelta

import pytest

from appointments.models import Status
from tests.factories import AppointmentFactory
from tests.fixtures.clinic import TODAY, at


@pytest.fixture(autouse=True)
def _frozen(frozen_now, fresh_throttles):
    return frozen_now


@pytest.fixture
def upcoming_myotherapy(assessed_patient, myotherapy, myotherapist, location, treatment_rooms):
    """The assessed patient's booked myotherapy in three weeks: what they would bring
    forward."""
    return AppointmentFactory(
        patient=assessed_patient,
        service=myotherapy,
        practitioner=myotherapist,
        location=location,
        room=treatment_rooms[0],
        start=at(TODAY + timedelta(weeks=3), 10),
        status=Status.BOOKED,
    )
