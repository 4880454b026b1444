"""Reception books a course in the admin in one form: "NMPT Tue/Thu 7:00 for 8 weeks", sees
the visits that are taken with their alternatives, picks them, and every visit is booked."""

from datetime import time, timedelta

import pytest
from django.urls import reverse

from appointments.models import Appointment, Course, Source, Status
from diary.admin_forms import alternative_value
from practice.models import BookingRules
from tests.factories import AppointmentFactory
from tests.fixtures.clinic import TODAY, at, make_coach

pytestmark = pytest.mark.usefixtures("frozen_now")

COURSE = reverse("admin:appointments_appointment_course")
TUESDAY = TODAY + timedelta(days=1)
THURSDAY = TODAY + timedelta(days=3)


@pytest.fixture
def coach(location, gym):
    return make_coach(location, gym, "Cal")


@pytest.fixture
def other_coach(location, gym):
    return make_coach(location, gym, "Cora")


@pytest.fixture
def form(assessed_patient, nmpt, coach, location):
    return {
        "patient": assessed_patient.pk,
        "service": nmpt.pk,
        "practitioner": coach.pk,
        "location": location.pk,
        "first_date": TUESDAY.isoformat(),
        "at": "07:00",
        "weekdays": ["1", "3"],
        "every_weeks": "1",
        "until": (TUESDAY + timedelta(weeks=8) - timedelta(days=1)).isoformat(),
    }


@pytest.fixture
def early_coaching(coach, other_coach, location):
    """The coaches start at 7:00 on Tuesdays and Thursdays (the clinic's fixture starts at 9)."""
    for each in (coach, other_coach):
        each.rota.filter(weekday__in=[1, 3]).update(start_time=time(7))


@pytest.fixture
def two_taken(coach, nmpt, location, gym, early_coaching):
    """Two of the sixteen visits clash with bookings the coach already has."""
    return [
        AppointmentFactory(
            service=nmpt,
            practitioner=coach,
            location=location,
            room=gym,
            start=start,
            status=Status.BOOKED,
        )
        for start in (at(TUESDAY + timedelta(weeks=2), 7), at(THURSDAY + timedelta(weeks=5), 7))
    ]


def test_the_form_checks_every_visit_and_offers_alternatives(
    reception_staff, form, two_taken, other_coach
):
    response = reception_staff.post(COURSE, {**form, "check": "1"})

    assert response.status_code == 200
    visits = response.context["visits"]
    assert len(visits) == 16
    taken = [visit for visit in visits if not visit.free]
    assert [visit.number for visit in taken] == [5, 12]
    # The other coach is free at 7:00: offered beside the coach's own other times.
    same_time = alternative_value(other_coach.pk, at(TUESDAY + timedelta(weeks=2), 7))
    assert same_time in [value for value, _, _ in taken[0].options]
    content = response.content.decode()
    assert "16 visits with Cal Coach" in content and "taken" in content
    assert not Course.objects.exists()


def test_reception_accepts_the_alternatives_and_every_visit_is_booked(
    reception_staff, reception_staff_user, form, two_taken, other_coach, coach
):
    checked = reception_staff.post(COURSE, {**form, "check": "1"})
    picks = {
        f"visit_{visit.number}": next(value for value, _, chosen in visit.options if chosen)
        for visit in checked.context["visits"]
    }

    # Visit 5 with the other coach at 7:00; visit 12 as the page chose: the same coach later
    # that day.
    picks["visit_5"] = alternative_value(other_coach.pk, at(TUESDAY + timedelta(weeks=2), 7))

    response = reception_staff.post(COURSE, {**form, **picks, "book": "1"})

    assert response.status_code == 302, response.context and response.context["form"].errors
    course = Course.objects.get()
    visits = list(course.appointments.order_by("start"))
    assert len(visits) == 16
    assert {visit.status for visit in visits} == {Status.BOOKED}
    assert {visit.source for visit in visits} == {Source.RECEPTION}
    assert course.created_by == reception_staff_user
    assert (visits[4].practitioner, visits[4].start) == (
        other_coach,
        at(TUESDAY + timedelta(weeks=2), 7),
    )
    twelfth = visits[11]
    assert twelfth.practitioner == coach
    assert twelfth.local_start.date() == THURSDAY + timedelta(weeks=5)
    assert twelfth.local_start.time() > time(7)
    # Every visit appears in the day view of its day.
    for visit in visits[:3]:
        day = reception_staff.get(
            reverse("admin:appointments_appointment_day"),
            {"date": visit.local_start.date().isoformat(), "location": visit.location_id},
        )
        assert f"/admin/appointments/appointment/{visit.pk}/change/" in day.content.decode()


def test_a_skipped_visit_is_not_booked(reception_staff, form, two_taken):
    checked = reception_staff.post(COURSE, {**form, "check": "1"})
    picks = {
        f"visit_{visit.number}": "skip" for visit in checked.context["visits"] if not visit.free
    }

    response = reception_staff.post(COURSE, {**form, **picks, "book": "1"})

    assert response.status_code == 302
    assert Course.objects.get().appointments.count() == 14


def test_keeping_a_taken_time_is_refused_on_the_page_and_books_nothing(
    reception_staff, form, two_taken
):
    before = Appointment.objects.count()
    picks = {f"visit_{n}": "keep" for n in range(1, 17)}

    response = reception_staff.post(COURSE, {**form, **picks, "book": "1"})

    assert response.status_code == 200
    rows = {visit.number: visit for visit in response.context["visits"]}
    assert rows[5].refused and rows[12].refused
    assert Appointment.objects.count() == before and not Course.objects.exists()


def test_a_rule_that_cannot_be_booked_is_shown_on_its_field(reception_staff, form):
    response = reception_staff.post(COURSE, {**form, "visits": "4", "check": "1"})

    assert response.status_code == 200
    assert "visits" in response.context["form"].errors


def test_a_forged_alternative_is_checked_like_any_booking(reception_staff, form, two_taken, coach):
    BookingRules.current()  # the rules exist
    picks = {"visit_5": alternative_value(coach.pk, at(TUESDAY + timedelta(weeks=2), 7))}
    picks.update({"visit_12": "skip"})

    response = reception_staff.post(COURSE, {**form, **picks, "book": "1"})

    assert response.status_code == 200
    assert not Course.objects.exists()
    assert {visit.number for visit in response.context["visits"] if visit.refused} == {5}


def test_garbage_in_a_pick_is_no_server_error(reception_staff, form, early_coaching):
    response = reception_staff.post(COURSE, {**form, "visit_1": "x|y", "book": "1"})

    assert response.status_code in (200, 302)
