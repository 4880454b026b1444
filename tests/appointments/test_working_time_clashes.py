"""Leave or a rota change saved over booked patients: the clashing bookings are named and a
decision is needed — keep them flagged, flag them to be moved, or cancel them with notices."""

from datetime import time, timedelta

import pytest

from appointments.clashes import ON_LEAVE, OUTSIDE_HOURS, clashes_among
from appointments.models import ClashDecision, Status
from appointments.services import change_working_time
from notifications.models import Delivery, Kind, Notification
from practice.models import Leave, WorkingHours
from tests.appointments.booking_helpers import TUESDAY, refusal
from tests.fixtures.clinic import at, book_consenting_to_email


@pytest.fixture
def booked(assessed_patient, myotherapy, myotherapist, reception_user):
    return book_consenting_to_email(
        assessed_patient, myotherapy, myotherapist, at(TUESDAY, 10), created_by=reception_user
    )


def leave_on_tuesday(practitioner):
    def save() -> Leave:
        return Leave.objects.create(
            practitioner=practitioner, start=at(TUESDAY, 0), end=at(TUESDAY, 23), reason="Sick"
        )

    return save


def test_leave_over_a_booking_is_refused_naming_it_and_nothing_is_saved(
    booked, myotherapist, manager
):
    error = refusal(
        lambda: change_working_time(
            practitioner_ids=[myotherapist.pk],
            change=leave_on_tuesday(myotherapist),
            decision=None,
            by=manager,
        )
    )

    booked.refresh_from_db()
    assert (error.code, error.status_code) == ("bookings_clash", 409)
    assert f"#{booked.pk}" in error.detail and "Ari Assessed" in error.detail
    assert "clash_decision" in error.fields
    assert not Leave.objects.exists()
    assert booked.status == Status.BOOKED and booked.clash_decision == ""


@pytest.mark.parametrize("decision", [ClashDecision.KEEP, ClashDecision.MOVE])
def test_kept_or_to_be_moved_the_booking_stays_and_is_flagged(
    booked, myotherapist, manager, decision
):
    leave, clashing = change_working_time(
        practitioner_ids=[myotherapist.pk],
        change=leave_on_tuesday(myotherapist),
        decision=decision,
        by=manager,
    )

    booked.refresh_from_db()
    assert leave.pk and [a.pk for a in clashing] == [booked.pk]
    assert booked.status == Status.BOOKED and booked.clash_decision == decision
    assert clashes_among([booked]) == {booked.pk: ON_LEAVE}


def test_cancel_with_notices(booked, myotherapist, manager):
    change_working_time(
        practitioner_ids=[myotherapist.pk],
        change=leave_on_tuesday(myotherapist),
        decision=ClashDecision.CANCEL,
        by=manager,
    )

    booked.refresh_from_db()
    assert booked.status in (Status.CANCELLED, Status.LATE_CANCELLED)
    assert booked.cancelled_by == manager
    assert "working time changed" in booked.cancellation_reason
    messages = Notification.objects.filter(appointment=booked)
    assert messages.filter(kind=Kind.CANCELLED, status=Delivery.PENDING).exists()
    assert not messages.filter(kind=Kind.REMINDER, status=Delivery.PENDING).exists()


def test_a_rota_change_that_leaves_a_booking_outside_the_hours(booked, myotherapist, manager):
    tuesday_line = WorkingHours.objects.get(practitioner=myotherapist, weekday=TUESDAY.weekday())

    def shorten() -> None:
        tuesday_line.start_time = time(12)
        tuesday_line.save()

    error = refusal(
        lambda: change_working_time(
            practitioner_ids=[myotherapist.pk], change=shorten, decision=None, by=manager
        )
    )
    change_working_time(
        practitioner_ids=[myotherapist.pk], change=shorten, decision="keep", by=manager
    )

    assert error.code == "bookings_clash"
    assert clashes_among([booked]) == {booked.pk: OUTSIDE_HOURS}


def test_leave_that_touches_no_booking_needs_no_decision(booked, myotherapist, manager):
    def next_week() -> Leave:
        return Leave.objects.create(
            practitioner=myotherapist,
            start=at(TUESDAY + timedelta(days=7), 0),
            end=at(TUESDAY + timedelta(days=7), 23),
        )

    leave, clashing = change_working_time(
        practitioner_ids=[myotherapist.pk], change=next_week, decision=None, by=manager
    )

    assert leave.pk and clashing == []


def test_a_clash_decided_before_is_not_asked_again(booked, myotherapist, manager):
    change_working_time(
        practitioner_ids=[myotherapist.pk],
        change=leave_on_tuesday(myotherapist),
        decision="keep",
        by=manager,
    )

    _, clashing = change_working_time(
        practitioner_ids=[myotherapist.pk],
        change=leave_on_tuesday(myotherapist),
        decision=None,
        by=manager,
    )

    assert clashing == []


def test_an_unknown_decision_is_invalid_input(booked, myotherapist, manager):
    error = refusal(
        lambda: change_working_time(
            practitioner_ids=[myotherapist.pk],
            change=leave_on_tuesday(myotherapist),
            decision="shrug",
            by=manager,
        )
    )

    assert (error.status_code, list(error.fields)) == (400, ["clash_decision"])
