"""The scheduling services act at the moment they are given (`now=`), not the clock's: they
judge by it and stamp it on the row, so a caller can write the clinic's history through
them (the demo clinic does). The clock here is frozen at TODAY 08:00; the moments given
are a week earlier."""

from datetime import timedelta

import pytest

from appointments.models import Status
from appointments.services import (
    book_appointment,
    cancel_appointment,
    check_in_appointment,
    complete_appointment,
    mark_no_show,
    reschedule_appointment,
)
from kernel.errors import DomainError
from notifications.models import Kind, Notification
from tests.fixtures.clinic import TODAY, at

LAST_WEEK = TODAY - timedelta(days=7)
YESTERDAY = TODAY - timedelta(days=1)


@pytest.fixture
def booked_last_week(new_patient, assessment, myotherapist):
    """An assessment yesterday at 10:00, booked at reception last week for a patient who
    agreed to email."""
    new_patient.consent_email = True
    new_patient.save()
    return book_appointment(
        patient=new_patient,
        service=assessment,
        practitioner=myotherapist,
        start=at(YESTERDAY, 10),
        now=at(LAST_WEEK, 9),
    )


def test_a_booking_is_judged_and_stamped_at_its_moment(booked_last_week):
    booked_last_week.refresh_from_db()
    assert booked_last_week.status == Status.BOOKED
    assert booked_last_week.created_at == booked_last_week.updated_at == at(LAST_WEEK, 9)
    confirmations = Notification.objects.filter(
        appointment=booked_last_week, kind=Kind.CONFIRMATION
    )
    assert set(confirmations.values_list("due_at", flat=True)) == {at(LAST_WEEK, 9)}


def test_a_start_before_the_given_moment_is_in_the_past(new_patient, assessment, myotherapist):
    with pytest.raises(DomainError) as refused:
        book_appointment(
            patient=new_patient,
            service=assessment,
            practitioner=myotherapist,
            start=at(LAST_WEEK, 10),
            now=at(LAST_WEEK, 11),
        )

    assert refused.value.code == "slot_in_past"


def test_the_day_of_a_visit(booked_last_week):
    arrived = check_in_appointment(appointment=booked_last_week, by=None, now=at(YESTERDAY, 9, 55))
    done = complete_appointment(appointment=arrived, by=None, now=at(YESTERDAY, 11))

    assert (done.checked_in_at, done.completed_at) == (at(YESTERDAY, 9, 55), at(YESTERDAY, 11))
    assert done.updated_at == at(YESTERDAY, 11)


def test_a_session_is_not_completed_before_it_starts_by_the_given_moment(booked_last_week):
    with pytest.raises(DomainError) as refused:
        complete_appointment(appointment=booked_last_week, by=None, now=at(YESTERDAY, 9))

    assert refused.value.code == "appointment_not_started"


def test_a_no_show_is_marked_at_its_moment(booked_last_week):
    missed = mark_no_show(appointment=booked_last_week, by=None, now=at(YESTERDAY, 10))

    assert missed.status == Status.NO_SHOW
    assert missed.updated_at == at(YESTERDAY, 10)


@pytest.mark.parametrize(
    ("called", "becomes"),
    [
        (at(LAST_WEEK, 12), Status.CANCELLED),
        (at(YESTERDAY, 7), Status.LATE_CANCELLED),
    ],
)
def test_a_cancellation_is_late_by_its_moment(booked_last_week, reception_user, called, becomes):
    cancelled = cancel_appointment(
        appointment=booked_last_week, by=reception_user, reason="Unwell", now=called
    )

    assert cancelled.status == becomes
    assert cancelled.cancelled_at == cancelled.updated_at == called
    notices = Notification.objects.filter(appointment=cancelled, kind=Kind.CANCELLED)
    assert set(notices.values_list("due_at", flat=True)) == {called}


def test_a_move_is_stamped_at_its_moment(booked_last_week):
    moved = reschedule_appointment(
        appointment=booked_last_week, start=at(YESTERDAY, 14), now=at(LAST_WEEK, 15)
    )

    assert moved.start == at(YESTERDAY, 14)
    assert moved.rescheduled_at == moved.updated_at == at(LAST_WEEK, 15)


def test_the_services_return_the_saved_row_and_leave_the_callers_as_it_was(
    booked_last_week, reception_user
):
    """Moving, cancelling and the status changes read the appointment again under lock and
    return that row; the instance passed in only says which appointment."""
    cancelled = cancel_appointment(
        appointment=booked_last_week, by=reception_user, reason="Unwell", now=at(LAST_WEEK, 12)
    )

    assert cancelled is not booked_last_week
    assert cancelled.pk == booked_last_week.pk
    assert cancelled.status == Status.CANCELLED
    assert booked_last_week.status == Status.BOOKED
