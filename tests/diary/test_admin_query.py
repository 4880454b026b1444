"""The front desk's pages read their query strings forgivingly (issue 13, item 11): a
date outside the clinic's calendar or an id that is not one is a warning and the page's
default, never a server error. tests/security/test_input_fuzz.py fuzzes every admin page."""

from datetime import timedelta

import pytest
from django.test import Client

from accounts.permissions import sync_role_group
from appointments.services import book_appointment
from tests.factories import UserFactory
from tests.fixtures.clinic import TODAY, at

pytestmark = pytest.mark.usefixtures("frozen_now")

DAY = "/admin/appointments/appointment/day/"
BOOK = "/admin/appointments/appointment/book/"


@pytest.fixture
def desk(db) -> Client:
    user = UserFactory(email="desk@clinic.example", is_staff=True)
    user.groups.add(sync_role_group("Reception"))
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


@pytest.mark.parametrize("date", ["0001-01-01", "9999-12-31", "1899-12-31", "2200-01-01"])
def test_the_day_view_outside_the_calendar_shows_today_with_a_warning(
    desk, location, assessment, myotherapist, date
):
    answer = desk.get(DAY, {"date": date, "location": location.pk, "service": assessment.pk})

    assert answer.status_code == 200
    assert answer.context["day"] == TODAY
    assert "Ignored date=" in answer.text
    assert "not a date between 1900-01-01 and 2199-12-31." in answer.text


@pytest.mark.parametrize("location_id", ["1.5", "1e999", "abc", "\x00", "99999999999999999999"])
def test_the_day_view_ignores_an_id_that_is_not_one(desk, location, assessment, location_id):
    answer = desk.get(DAY, {"location": location_id, "service": assessment.pk})

    assert answer.status_code == 200
    assert answer.context["location"] == location
    assert "Ignored location=" in answer.text


@pytest.mark.parametrize("date", ["0001-01-01", "9999-12-31"])
def test_the_booking_form_refuses_a_date_outside_the_calendar(desk, assessment, date):
    answer = desk.get(BOOK, {"service": assessment.pk, "date": date})

    assert answer.status_code == 200
    assert answer.context["form"].errors["date"] == [
        "Choose a date between 1900-01-01 and 2199-12-31."
    ]


@pytest.mark.parametrize("practitioner_id", ["abc", "1.5", "1e999"])
def test_the_booking_form_ignores_a_malformed_slot_link(
    desk, location, assessment, myotherapist, practitioner_id
):
    start = at(TODAY + timedelta(days=1), 10).isoformat()
    answer = desk.get(
        BOOK,
        {
            "service": assessment.pk,
            "practitioner": practitioner_id,
            "location": location.pk,
            "start": start,
        },
    )

    assert answer.status_code == 200
    assert "practitioner" not in answer.context["form"].data  # dropped: any practitioner


def test_moving_an_appointment_to_year_one_is_refused(
    desk, assessed_patient, assessment, myotherapist
):
    appointment = book_appointment(
        patient=assessed_patient,
        service=assessment,
        practitioner=myotherapist,
        start=at(TODAY + timedelta(days=3), 10),
    )

    answer = desk.get(
        f"/admin/appointments/appointment/{appointment.pk}/reschedule/?date=0001-01-01"
    )

    assert answer.status_code == 200
    assert "date" in answer.context["form"].errors
