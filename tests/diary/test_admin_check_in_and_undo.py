"""Check-in on the day only, and undoing a check-in or a no-show, in the admin: through the
front desk, a manager who is not a superuser, the practitioner whose diary it is, and a
member of staff who may only look."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from appointments.models import Status
from appointments.services import book_appointment, check_in_appointment, mark_no_show
from audit.models import Action, AuditEntry
from tests.factories import UserFactory
from tests.fixtures.admin_clients import admin_client, staff_member
from tests.fixtures.clinic import TODAY, at

pytestmark = pytest.mark.usefixtures("frozen_now")


def url(appointment, name: str, *extra) -> str:
    return reverse(f"admin:appointments_appointment_{name}", args=[appointment.pk, *extra])


@pytest.fixture
def booked_today(assessed_patient, myotherapy, myotherapist):
    return book_appointment(
        patient=assessed_patient, service=myotherapy, practitioner=myotherapist, start=at(TODAY, 10)
    )


@pytest.fixture
def viewer(db):
    user = UserFactory(email="viewer@clinic.example", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename="view_appointment"))
    return admin_client(user)


def test_checking_in_a_week_early_is_refused_with_a_message(
    reception_staff, assessed_patient, myotherapy, myotherapist
):
    next_week = book_appointment(
        patient=assessed_patient,
        service=myotherapy,
        practitioner=myotherapist,
        start=at(TODAY + timedelta(days=7), 10),
    )

    response = reception_staff.post(url(next_week, "status", "check-in"), follow=True)

    next_week.refresh_from_db()
    assert response.status_code == 200
    assert next_week.status == Status.BOOKED
    assert "only on that day" in response.content.decode()


def test_the_checked_in_page_offers_undo(reception_staff, booked_today):
    check_in_appointment(appointment=booked_today, by=None)

    page = reception_staff.get(url(booked_today, "change")).content.decode()

    assert url(booked_today, "undo") in page
    assert "Undo “Checked in”" in page


@pytest.mark.parametrize("who", ["reception_staff", "manager_staff", "practitioner_staff"])
def test_staff_undo_a_check_in_and_it_is_audited(request, who, booked_today):
    client = request.getfixturevalue(who)
    check_in_appointment(appointment=booked_today, by=None)

    response = client.post(url(booked_today, "undo"))

    booked_today.refresh_from_db()
    assert response.status_code == 302
    assert booked_today.status == Status.BOOKED
    entry = AuditEntry.objects.get(object_type="appointments.appointment")
    assert (entry.action, entry.actor, entry.detail["undo"]) == (
        Action.UPDATE,
        client.user,
        "checked_in",
    )


def test_reception_undoes_a_no_show(reception_staff, booked_today, frozen_now):
    frozen_now.move_to(at(TODAY, 10, 20))
    mark_no_show(appointment=booked_today, by=None)

    response = reception_staff.post(url(booked_today, "undo"), follow=True)

    booked_today.refresh_from_db()
    assert booked_today.status == Status.BOOKED
    assert "booked again" in response.content.decode()


def test_undo_of_a_booked_appointment_is_a_message_not_an_error(reception_staff, booked_today):
    response = reception_staff.post(url(booked_today, "undo"), follow=True)

    assert response.status_code == 200
    assert "no check-in or no-show to undo" in response.content.decode()


def test_who_may_only_look_cannot_undo(viewer, booked_today):
    check_in_appointment(appointment=booked_today, by=None)

    response = viewer.post(url(booked_today, "undo"))

    booked_today.refresh_from_db()
    # Without the permission to change any appointment: refused before any lookup, so the
    # answer says nothing about which appointments exist.
    assert response.status_code == 403
    assert booked_today.status == Status.CHECKED_IN


def test_another_practitioners_appointment_cannot_be_undone(second_myotherapist, booked_today):
    other = admin_client(
        staff_member(second_myotherapist.user.email, "Practitioner", user=second_myotherapist.user)
    )
    check_in_appointment(appointment=booked_today, by=None)

    response = other.post(url(booked_today, "undo"))

    booked_today.refresh_from_db()
    assert response.status_code == 404
    assert booked_today.status == Status.CHECKED_IN


def test_undo_needs_post(reception_staff, booked_today):
    check_in_appointment(appointment=booked_today, by=None)

    assert reception_staff.get(url(booked_today, "undo")).status_code == 403
