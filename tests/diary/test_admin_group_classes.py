"""Group classes at the front desk: reception schedules a weekly series in one form, books
a patient in, sees the attendees, marks attendance and cancels a class; a refusal is shown
on the page, never a server error."""

from datetime import timedelta

import pytest
from django.urls import reverse

from appointments.classes import book_place, schedule_class
from appointments.models import Attendance, ClassPlace, ClassStatus, GroupClass, PlaceStatus
from practice.models import BookingRules
from tests.factories import PatientFactory
from tests.fixtures.admin_clients import admin_client
from tests.fixtures.clinic import TODAY, at

pytestmark = pytest.mark.usefixtures("frozen_now")

ADD = reverse("admin:appointments_groupclass_add")
TUESDAY = TODAY + timedelta(days=1)


@pytest.fixture(autouse=True)
def patients_need_no_assessment(db):
    rules = BookingRules.current()
    rules.new_patients_start_with_assessment = False
    rules.save()


@pytest.fixture
def tuesday_class(nmpt_group, coach, location, gym):
    return schedule_class(
        service=nmpt_group, practitioner=coach, location=location, start=at(TUESDAY, 10), capacity=2
    )


def series_form(nmpt_group, coach, location, **changes):
    return {
        "service": nmpt_group.pk,
        "practitioner": coach.pk,
        "location": location.pk,
        "first_date": TUESDAY.isoformat(),
        "at": "10:00",
        "weekdays": ["1", "3"],
        "every_weeks": "1",
        "classes": "4",
        "capacity": "4",
        "bookable_online": "on",
        **changes,
    }


def test_reception_schedules_a_weekly_series_in_one_form(
    reception_staff, nmpt_group, coach, location, gym
):
    response = reception_staff.post(ADD, series_form(nmpt_group, coach, location))

    assert response.status_code == 302
    assert GroupClass.objects.filter(series__isnull=False).count() == 4


def test_a_taken_time_is_shown_on_the_form_not_a_server_error(
    reception_staff, tuesday_class, nmpt_group, coach, location
):
    response = reception_staff.post(ADD, series_form(nmpt_group, coach, location))

    assert response.status_code == 200
    assert b"cannot be scheduled" in response.content
    assert GroupClass.objects.count() == 1


def test_the_class_page_lists_its_attendees(reception_staff, tuesday_class):
    book_place(group_class=tuesday_class, patient=PatientFactory(first_name="Zed"))

    response = reception_staff.get(
        reverse("admin:appointments_groupclass_change", args=[tuesday_class.pk])
    )

    assert response.status_code == 200
    assert b"Zed" in response.content
    assert b"Book a patient" in response.content


def test_reception_books_a_patient_in(reception_staff, tuesday_class, assessed_patient):
    response = reception_staff.post(
        reverse("admin:appointments_groupclass_book", args=[tuesday_class.pk]),
        {"patient": assessed_patient.pk},
    )

    assert response.status_code == 302
    assert ClassPlace.objects.get().patient == assessed_patient


def test_a_full_class_is_refused_on_the_page(reception_staff, tuesday_class, assessed_patient):
    for _ in range(2):
        book_place(group_class=tuesday_class, patient=PatientFactory())

    response = reception_staff.post(
        reverse("admin:appointments_groupclass_book", args=[tuesday_class.pk]),
        {"patient": assessed_patient.pk},
    )

    assert response.status_code == 200
    assert b"The class is full." in response.content


def test_reception_cancels_a_class_with_a_reason(reception_staff, tuesday_class):
    book_place(group_class=tuesday_class, patient=PatientFactory())

    response = reception_staff.post(
        reverse("admin:appointments_groupclass_cancel", args=[tuesday_class.pk]),
        {"reason": "Coach unwell"},
    )

    assert response.status_code == 302
    tuesday_class.refresh_from_db()
    assert tuesday_class.status == ClassStatus.CANCELLED
    assert not tuesday_class.places.filter(status=PlaceStatus.BOOKED).exists()


def test_attendance_is_marked_per_attendee(reception_staff_user, tuesday_class, frozen_now):
    came = book_place(group_class=tuesday_class, patient=PatientFactory())
    stayed_away = book_place(group_class=tuesday_class, patient=PatientFactory())
    frozen_now.move_to(at(TUESDAY, 10, 30))
    changelist = reverse("admin:appointments_classplace_changelist")
    client = admin_client(reception_staff_user)

    client.post(changelist, {"action": "mark_arrived", "_selected_action": [came.pk]})
    client.post(changelist, {"action": "mark_no_show", "_selected_action": [stayed_away.pk]})

    assert dict(ClassPlace.objects.values_list("pk", "attendance")) == {
        came.pk: Attendance.ARRIVED,
        stayed_away.pk: Attendance.NO_SHOW,
    }


def test_a_refused_mark_is_a_message(reception_staff, tuesday_class):
    place = book_place(group_class=tuesday_class, patient=PatientFactory())

    response = reception_staff.post(
        reverse("admin:appointments_classplace_changelist"),
        {"action": "mark_no_show", "_selected_action": [place.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert b"attendance is marked from that day on" in response.content
    assert ClassPlace.objects.get().attendance == ""
