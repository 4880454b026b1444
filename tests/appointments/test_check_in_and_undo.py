"""Check-in only on the day of the appointment (the location's day), and undoing a check-in or
a no-show made by mistake, audited."""

from datetime import timedelta

import pytest
import time_machine

from appointments.models import Status
from appointments.services import (
    book_appointment,
    check_in_appointment,
    mark_no_show,
    undo_status_change,
)
from audit.models import Action, AuditEntry
from notifications.models import Delivery, Kind, Notification
from tests.appointments.booking_helpers import TUESDAY, refusal
from tests.factories import PatientFactory
from tests.fixtures.clinic import TODAY, assess, at, book_consenting_to_email


@pytest.fixture
def booked_next_week(assessed_patient, myotherapy, myotherapist):
    return book_consenting_to_email(
        assessed_patient, myotherapy, myotherapist, at(TODAY + timedelta(days=7), 10)
    )


@pytest.fixture
def booked_today(assessed_patient, myotherapy, myotherapist):
    return book_appointment(
        patient=assessed_patient, service=myotherapy, practitioner=myotherapist, start=at(TODAY, 10)
    )


class TestCheckInOnlyOnTheDay:
    def test_a_week_early_is_refused_and_the_reminders_stay(self, booked_next_week, reception_user):
        error = refusal(
            lambda: check_in_appointment(appointment=booked_next_week, by=reception_user)
        )

        booked_next_week.refresh_from_db()
        assert error.code == "not_on_the_day"
        assert booked_next_week.status == Status.BOOKED
        reminders = Notification.objects.filter(appointment=booked_next_week, kind=Kind.REMINDER)
        assert reminders.exists()
        assert set(reminders.values_list("status", flat=True)) == {Delivery.PENDING}

    def test_on_the_day_before_the_start_is_fine(self, booked_today, reception_user):
        arrived = check_in_appointment(appointment=booked_today, by=reception_user)

        assert arrived.status == Status.CHECKED_IN

    def test_the_day_is_the_locations_not_utc(self, assessed_patient, myotherapy, myotherapist):
        # Tuesday 09:00 in Melbourne is Monday 22:00 UTC: at 23:30 on Monday in Melbourne
        # (Monday 12:30 UTC) it is the same UTC date, but not yet the appointment's day.
        tuesday_morning = book_appointment(
            patient=assessed_patient,
            service=myotherapy,
            practitioner=myotherapist,
            start=at(TUESDAY, 9),
        )

        with time_machine.travel(at(TODAY, 23, 30), tick=False):
            error = refusal(lambda: check_in_appointment(appointment=tuesday_morning, by=None))

        assert error.code == "not_on_the_day"
        assert error.status_code == 409


class TestUndo:
    def test_undoing_a_check_in_puts_it_back_to_booked_and_is_audited(
        self, booked_today, reception_user
    ):
        check_in_appointment(appointment=booked_today, by=reception_user)

        restored = undo_status_change(appointment=booked_today, by=reception_user)

        restored.refresh_from_db()
        assert restored.status == Status.BOOKED and restored.checked_in_at is None
        entry = AuditEntry.objects.get(object_type="appointments.appointment")
        assert entry.action == Action.UPDATE and entry.actor == reception_user
        assert entry.object_id == str(booked_today.pk)
        assert entry.patient_id == booked_today.patient_id
        assert entry.detail == {"undo": "checked_in", "fields": ["status", "checked_in_at"]}

    def test_undoing_a_no_show_takes_the_time_back(self, booked_today, reception_user):
        with time_machine.travel(at(TODAY, 10, 20), tick=False):
            mark_no_show(appointment=booked_today, by=reception_user)
            restored = undo_status_change(appointment=booked_today, by=reception_user)

        restored.refresh_from_db()
        assert restored.status == Status.BOOKED and restored.is_occupying
        assert AuditEntry.objects.get().detail["undo"] == "no_show"

    def test_a_no_show_whose_time_was_booked_since_stays_a_no_show(
        self,
        booked_today,
        myotherapist,
        second_myotherapist,
        location,
        treatment_rooms,
        assessment,
        reception_user,
    ):
        mark_no_show(appointment=booked_today, by=reception_user, now=at(TODAY, 10, 1))
        walk_in = PatientFactory(first_name="Walk", last_name="In")
        assess(walk_in, location, treatment_rooms[1], second_myotherapist, assessment)
        book_appointment(
            patient=walk_in,
            service=booked_today.service,
            practitioner=myotherapist,
            start=at(TODAY, 10, 15),
            now=at(TODAY, 10, 2),
        )

        error = refusal(
            lambda: undo_status_change(appointment=booked_today, by=None, now=at(TODAY, 10, 5))
        )

        booked_today.refresh_from_db()
        assert error.code == "slot_unavailable"
        assert booked_today.status == Status.NO_SHOW
        assert not AuditEntry.objects.exists()

    def test_a_booked_appointment_has_nothing_to_undo(self, booked_today):
        error = refusal(lambda: undo_status_change(appointment=booked_today, by=None))

        assert error.code == "invalid_status_transition"
