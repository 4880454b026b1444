"""A list's filterset is built only when the request has a query string to read: without
one it would filter nothing."""

from datetime import timedelta

import pytest
from django_filters.rest_framework import FilterSet

from appointments.models import Status
from tests.factories import AppointmentFactory
from tests.fixtures.clinic import TODAY, at

pytestmark = pytest.mark.usefixtures("frozen_now", "fresh_throttles")

APPOINTMENTS = "/api/v1/appointments/"


@pytest.fixture
def diary(assessed_patient, myotherapist, location):
    for day, status in [(1, Status.COMPLETED), (2, Status.NO_SHOW), (3, Status.COMPLETED)]:
        AppointmentFactory(
            patient=assessed_patient,
            practitioner=myotherapist,
            location=location,
            room=location.rooms.first(),
            start=at(TODAY - timedelta(days=day), 9),
            status=status,
        )


def ids(client, params=None):
    return [row["id"] for row in client.get(APPOINTMENTS, params).json()["results"]]


def test_no_query_string_no_filterset_and_every_row(as_reception, diary, monkeypatch):
    everything = ids(as_reception, {"page": 1})
    built = []
    monkeypatch.setattr(FilterSet, "__init__", lambda *args, **kwargs: built.append(args))

    assert ids(as_reception) == everything
    assert built == []


def test_a_query_string_is_filtered_as_before(as_reception, diary):
    assert len(ids(as_reception, {"status": "completed"})) == 3  # with the assessment
    assert len(ids(as_reception, {"status": "no_show"})) == 1
    assert as_reception.get(APPOINTMENTS, {"status": "lost"}).status_code == 400
