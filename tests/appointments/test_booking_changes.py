"""A booking afterwards: moved, cancelled, checked in, completed or marked a no-show."""

from datetime import timedelta

import pytest
import time_machine

from appointments.availability import free_slots
from appointments.models import Status
from appointments.services import (
    book_appointment,
    cancel_appointment,
    check_in_appointment,
    complete_appointment,
    mark_no_show,
    reschedule_appointment,
)
from tests.appointments.booking_helpers import TUESDAY, refusal, snapshot
from tests.fixtures.clinic import MELBOURNE, TODAY, at


class TestReschedule:
    @pytest.fixture
    def booked(self, assessed_patient, assessment, myotherapist):
        return book_appointment(
            patient=assessed_patient,
            service=assessment,
            practitioner=myotherapist,
            start=at(TUESDAY + timedelta(days=2), 10),
        )

    def test_moves_the_same_appointment_and_frees_the_old_time(
        self, booked, assessment, myotherapist, reception_user
    ):
        old_start = booked.start

        moved = reschedule_appointment(
            appointment=booked, start=at(TUESDAY + timedelta(days=2), 14), by=reception_user
        )

        moved.refresh_from_db()
        assert moved.pk == booked.pk
        assert moved.start == at(TUESDAY + timedelta(days=2), 14)
        assert moved.end == at(TUESDAY + timedelta(days=2), 15)
        assert moved.rescheduled_at is not None and moved.updated_by == reception_user
        day = old_start.astimezone(MELBOURNE).date()
        assert old_start in {s.start for s in free_slots(assessment, day, day)}

    def test_a_small_move_may_overlap_its_own_old_time(self, booked):
        moved = reschedule_appointment(
            appointment=booked, start=booked.start + timedelta(minutes=15)
        )

        assert moved.start == at(TUESDAY + timedelta(days=2), 10, 15)

    def test_to_another_practitioner(self, booked, second_myotherapist):
        moved = reschedule_appointment(
            appointment=booked, start=booked.start, practitioner=second_myotherapist
        )

        moved.refresh_from_db()
        assert moved.practitioner == second_myotherapist

    def test_a_refused_move_keeps_the_old_slot(
        self, booked, other_patient, assessment, myotherapist
    ):
        book_appointment(
            patient=other_patient,
            service=assessment,
            practitioner=myotherapist,
            start=at(TUESDAY + timedelta(days=2), 14),
        )
        before = snapshot()

        error = refusal(
            lambda: reschedule_appointment(
                appointment=booked, start=at(TUESDAY + timedelta(days=2), 14, 30)
            )
        )

        assert error.code == "slot_unavailable"
        assert snapshot() == before

    def test_patients_cannot_move_inside_the_cancellation_window(self, booked):
        with time_machine.travel(booked.start - timedelta(hours=23), tick=False):
            error = refusal(
                lambda: reschedule_appointment(
                    appointment=booked,
                    start=booked.start + timedelta(days=7),
                    online=True,
                )
            )

        assert error.code == "inside_cancellation_window"

    def test_only_booked_appointments_move(self, booked, reception_user):
        cancel_appointment(appointment=booked, by=reception_user, reason="Unwell")

        error = refusal(lambda: reschedule_appointment(appointment=booked, start=at(TUESDAY, 10)))

        assert error.code == "invalid_status_transition"


class TestCancel:
    @pytest.fixture
    def booked(self, new_patient, assessment, myotherapist):
        return book_appointment(
            patient=new_patient,
            service=assessment,
            practitioner=myotherapist,
            start=at(TUESDAY + timedelta(days=2), 10),
        )

    def test_a_patient_cancels_online_ahead_of_the_window(self, booked, assessment):
        cancelled = cancel_appointment(appointment=booked, by=None, online=True)

        cancelled.refresh_from_db()
        assert cancelled.status == Status.CANCELLED
        assert cancelled.cancelled_at is not None
        day = booked.start.astimezone(MELBOURNE).date()
        assert booked.start in {s.start for s in free_slots(assessment, day, day)}

    def test_a_patient_cannot_cancel_online_inside_the_window(self, booked):
        with time_machine.travel(booked.start - timedelta(hours=2), tick=False):
            error = refusal(lambda: cancel_appointment(appointment=booked, by=None, online=True))

        booked.refresh_from_db()
        assert error.code == "inside_cancellation_window"
        assert booked.status == Status.BOOKED

    def test_reception_inside_the_window_records_a_late_cancellation(self, booked, reception_user):
        with time_machine.travel(booked.start - timedelta(hours=2), tick=False):
            cancelled = cancel_appointment(
                appointment=booked, by=reception_user, reason="Called in sick"
            )

        cancelled.refresh_from_db()
        assert cancelled.status == Status.LATE_CANCELLED
        assert cancelled.cancelled_by == reception_user
        assert cancelled.cancellation_reason == "Called in sick"

    def test_reception_must_give_a_reason(self, booked, reception_user):
        error = refusal(lambda: cancel_appointment(appointment=booked, by=reception_user))

        assert error.code == "reason_required"
        assert "reason" in error.fields

    def test_a_cancelled_appointment_cannot_be_cancelled_again(self, booked, reception_user):
        cancel_appointment(appointment=booked, by=reception_user, reason="Moved away")

        error = refusal(
            lambda: cancel_appointment(appointment=booked, by=reception_user, reason="again")
        )

        assert error.code == "invalid_status_transition"


class TestStatusChanges:
    @pytest.fixture
    def booked(self, new_patient, assessment, myotherapist):
        return book_appointment(
            patient=new_patient,
            service=assessment,
            practitioner=myotherapist,
            start=at(TODAY, 10),
        )

    def test_check_in_then_complete(self, booked, reception_user):
        check_in_appointment(appointment=booked, by=reception_user)
        with time_machine.travel(at(TODAY, 11), tick=False):
            complete_appointment(appointment=booked, by=reception_user)

        booked.refresh_from_db()
        assert booked.status == Status.COMPLETED
        assert booked.checked_in_at and booked.completed_at
        assert booked.updated_by == reception_user

    def test_no_show_only_after_the_start(self, booked, reception_user):
        early = refusal(lambda: mark_no_show(appointment=booked, by=reception_user))
        with time_machine.travel(at(TODAY, 10, 20), tick=False):
            mark_no_show(appointment=booked, by=reception_user)

        booked.refresh_from_db()
        assert early.code == "appointment_not_started"
        assert booked.status == Status.NO_SHOW

    def test_a_completed_appointment_cannot_be_cancelled_or_checked_in(
        self, booked, reception_user
    ):
        with time_machine.travel(at(TODAY, 11), tick=False):
            complete_appointment(appointment=booked, by=reception_user)

        for action in (
            lambda: check_in_appointment(appointment=booked, by=reception_user),
            lambda: cancel_appointment(appointment=booked, by=reception_user, reason="x"),
            lambda: mark_no_show(appointment=booked, by=reception_user),
        ):
            assert refusal(action).code == "invalid_status_transition"
