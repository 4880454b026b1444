"""`GET /api/v1/appointments/{id}/ics/`: the booking as a calendar file, for its patient and
staff, nobody else."""

from datetime import timedelta

import pytest
from icalendar import Calendar

from appointments.models import Status
from tests.factories import AppointmentFactory
from tests.fixtures.clinic import MELBOURNE, TODAY, at

pytestmark = pytest.mark.usefixtures("frozen_now", "fresh_throttles")

TUESDAY = TODAY + timedelta(days=1)


@pytest.fixture
def booking(patient_user, location, treatment_rooms, myotherapist, myotherapy):
    location.address = "1 Swan St, Richmond VIC 3121"
    location.save()
    return AppointmentFactory(
        patient=patient_user.patient,
        practitioner=myotherapist,
        service=myotherapy,
        location=location,
        room=treatment_rooms[0],
        start=at(TUESDAY, 10),
    )


def ics(client, appointment, **headers):
    return client.get(f"/api/v1/appointments/{appointment.pk}/ics/", **headers)


def event_of(response):
    calendar = Calendar.from_ical(response.content)
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def test_the_patient_gets_one_event_in_the_locations_zone(as_patient, booking, settings):
    response = ics(as_patient, booking)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    calendar, event = event_of(response)
    assert str(event["summary"]) == "Myotherapy 45"
    assert str(event["location"]) == "Richmond, 1 Swan St, Richmond VIC 3121"
    assert event.decoded("dtstart") == at(TUESDAY, 10)
    assert event.decoded("dtend") == at(TUESDAY, 10, 45)
    assert event["dtstart"].params["TZID"] == "Australia/Melbourne"
    assert [tz["tzid"] for tz in calendar.walk("VTIMEZONE")] == ["Australia/Melbourne"]
    assert str(event["status"]) == "CONFIRMED"
    assert str(event["uid"]) == f"appointment-{booking.pk}@{settings.CLINIC_DOMAIN}"


def test_the_uid_is_stable_across_downloads(as_patient, booking):
    first = event_of(ics(as_patient, booking))[1]
    second = event_of(ics(as_patient, booking))[1]

    assert first["uid"] == second["uid"]


def test_a_calendar_client_asking_for_text_calendar_gets_it(as_patient, booking):
    response = ics(as_patient, booking, HTTP_ACCEPT="text/calendar")

    assert response.status_code == 200
    assert response.content.startswith(b"BEGIN:VCALENDAR")


def test_a_cancelled_booking_says_so(as_patient, booking):
    booking.status = Status.CANCELLED
    booking.cancelled_at = at(TODAY, 8)
    booking.save()

    assert str(event_of(ics(as_patient, booking))[1]["status"]) == "CANCELLED"


def test_staff_get_it(as_reception, booking):
    assert ics(as_reception, booking).status_code == 200


def test_another_patient_gets_a_404(as_other_patient, booking):
    assert ics(as_other_patient, booking).status_code == 404


def test_anonymous_gets_a_401(anonymous, booking):
    assert ics(anonymous, booking).status_code == 401


def test_times_are_the_locations_wall_clock(as_patient, booking):
    assert event_of(ics(as_patient, booking))[1].decoded("dtstart").tzinfo.key == MELBOURNE.key
