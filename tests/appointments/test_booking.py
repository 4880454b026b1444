from datetime import time, timedelta
from decimal import Decimal

import pytest

from appointments.availability import free_slots
from appointments.models import Source, Status
from appointments.services import book_appointment
from practice.models import Break, ExtraHours, Leave
from tests.appointments.booking_helpers import TUESDAY, refusal, snapshot
from tests.factories import PatientFactory, PractitionerFactory, ServiceFactory
from tests.fixtures.clinic import TODAY, at, work_every_day


class TestBooking:
    def test_a_new_patient_books_the_assessment(
        self, new_patient, assessment, myotherapist, treatment_rooms, reception_user
    ):
        appointment = book_appointment(
            patient=new_patient,
            service=assessment,
            practitioner=myotherapist,
            start=at(TUESDAY, 10),
            created_by=reception_user,
        )

        appointment.refresh_from_db()
        assert appointment.status == Status.BOOKED
        assert appointment.end == at(TUESDAY, 11)
        assert appointment.blocked_until == at(TUESDAY, 11)
        assert appointment.room == treatment_rooms[0] and appointment.room_place == 1
        assert appointment.location == treatment_rooms[0].location
        assert appointment.price == assessment.price
        assert appointment.source == Source.RECEPTION
        assert appointment.created_by == reception_user

    def test_the_buffer_blocks_the_practitioner_after_the_session(
        self, assessed_patient, myotherapy, myotherapist
    ):
        appointment = book_appointment(
            patient=assessed_patient,
            service=myotherapy,
            practitioner=myotherapist,
            start=at(TUESDAY, 10),
        )

        assert appointment.end == at(TUESDAY, 10, 45)
        assert appointment.blocked_until == at(TUESDAY, 11)

    def test_a_new_patient_must_start_with_an_assessment(
        self, new_patient, myotherapy, myotherapist
    ):
        error = refusal(
            lambda: book_appointment(
                patient=new_patient,
                service=myotherapy,
                practitioner=myotherapist,
                start=at(TUESDAY, 10),
            )
        )

        assert error.code == "new_patient_needs_assessment"

    def test_a_follow_up_may_be_booked_after_a_booked_assessment(
        self, new_patient, assessment, myotherapy, myotherapist
    ):
        book_appointment(
            patient=new_patient,
            service=assessment,
            practitioner=myotherapist,
            start=at(TUESDAY, 9),
        )

        before = refusal(
            lambda: book_appointment(
                patient=new_patient,
                service=myotherapy,
                practitioner=myotherapist,
                start=at(TODAY, 14),
            )
        )
        after = book_appointment(
            patient=new_patient,
            service=myotherapy,
            practitioner=myotherapist,
            start=at(TUESDAY + timedelta(days=7), 9),
        )

        assert before.code == "new_patient_needs_assessment"
        assert after.status == Status.BOOKED

    def test_a_taken_practitioner_is_refused(
        self, assessed_patient, other_patient, assessment, myotherapist
    ):
        book_appointment(
            patient=assessed_patient,
            service=assessment,
            practitioner=myotherapist,
            start=at(TUESDAY, 10),
        )

        for start in (at(TUESDAY, 10), at(TUESDAY, 9, 15), at(TUESDAY, 10, 45)):
            error = refusal(
                lambda start=start: book_appointment(
                    patient=other_patient,
                    service=assessment,
                    practitioner=myotherapist,
                    start=start,
                )
            )
            assert error.code == "slot_unavailable"
            assert "already booked" in error.detail

    def test_a_session_cannot_start_inside_anothers_buffer(
        self, assessed_patient, other_patient, myotherapy, assessment, myotherapist
    ):
        book_appointment(
            patient=assessed_patient,
            service=myotherapy,
            practitioner=myotherapist,
            start=at(TUESDAY, 10),
        )

        error = refusal(
            lambda: book_appointment(
                patient=other_patient,
                service=assessment,
                practitioner=myotherapist,
                start=at(TUESDAY, 10, 50),
            )
        )

        assert error.code == "slot_unavailable"

    def test_a_patient_cannot_be_in_two_places_at_once(
        self, assessed_patient, assessment, myotherapist, second_myotherapist
    ):
        book_appointment(
            patient=assessed_patient,
            service=assessment,
            practitioner=myotherapist,
            start=at(TUESDAY, 10),
        )

        error = refusal(
            lambda: book_appointment(
                patient=assessed_patient,
                service=assessment,
                practitioner=second_myotherapist,
                start=at(TUESDAY, 10, 30),
            )
        )

        assert error.code == "slot_unavailable"
        assert "patient already has an appointment" in error.detail

    def test_back_to_back_sessions_for_one_patient_are_fine(
        self, assessed_patient, myotherapy, nmpt, myotherapist, coach
    ):
        # The myotherapy buffer blocks the practitioner and the room, not the patient.
        book_appointment(
            patient=assessed_patient,
            service=myotherapy,
            practitioner=myotherapist,
            start=at(TUESDAY, 10),
        )

        gym_session = book_appointment(
            patient=assessed_patient,
            service=nmpt,
            practitioner=coach,
            start=at(TUESDAY, 10, 45),
        )

        assert gym_session.status == Status.BOOKED

    def test_two_practitioners_at_once_get_different_rooms(
        self, assessed_patient, other_patient, assessment, myotherapist, second_myotherapist
    ):
        first = book_appointment(
            patient=assessed_patient,
            service=assessment,
            practitioner=myotherapist,
            start=at(TUESDAY, 10),
        )
        second = book_appointment(
            patient=other_patient,
            service=assessment,
            practitioner=second_myotherapist,
            start=at(TUESDAY, 10),
        )

        assert first.room != second.room

    def test_no_free_room_is_refused_and_nothing_is_written(
        self, assessment, myotherapist, second_myotherapist, location
    ):
        third = PractitionerFactory()
        work_every_day(third, location)
        for practitioner in (myotherapist, second_myotherapist):
            book_appointment(
                patient=PatientFactory(),
                service=assessment,
                practitioner=practitioner,
                start=at(TUESDAY, 10),
            )
        before = snapshot()

        error = refusal(
            lambda: book_appointment(
                patient=PatientFactory(),
                service=assessment,
                practitioner=third,
                start=at(TUESDAY, 10, 30),
            )
        )

        assert error.code == "slot_unavailable"
        assert "No treatment room is free" in error.detail
        assert snapshot() == before

    @pytest.mark.parametrize(
        ("start", "reason"),
        [
            (at(TUESDAY, 8, 30), "before opening"),
            (at(TUESDAY, 16, 30), "runs past closing"),
            (at(TUESDAY, 12, 15), "runs into the break"),
        ],
    )
    def test_outside_working_hours_is_refused(
        self, new_patient, assessment, myotherapist, start, reason
    ):
        line = myotherapist.rota.get(weekday=TUESDAY.weekday())
        Break.objects.create(working_hours=line, start_time=time(13), end_time=time(13, 30))

        error = refusal(
            lambda: book_appointment(
                patient=new_patient, service=assessment, practitioner=myotherapist, start=start
            )
        )

        assert error.code == "outside_hours", reason

    def test_leave_is_refused(self, new_patient, assessment, myotherapist):
        Leave.objects.create(
            practitioner=myotherapist, start=at(TUESDAY, 0), end=at(TUESDAY, 23, 59)
        )

        error = refusal(
            lambda: book_appointment(
                patient=new_patient,
                service=assessment,
                practitioner=myotherapist,
                start=at(TUESDAY, 10),
            )
        )

        assert error.code == "outside_hours"
        assert "on leave" in error.detail

    def test_the_past_is_refused(self, new_patient, assessment, myotherapist):
        error = refusal(
            lambda: book_appointment(
                patient=new_patient,
                service=assessment,
                practitioner=myotherapist,
                start=at(TODAY - timedelta(days=1), 10),
            )
        )

        assert error.code == "slot_in_past"

    def test_a_practitioner_who_does_not_deliver_the_service_is_refused(
        self, assessed_patient, nmpt, myotherapist, gym
    ):
        error = refusal(
            lambda: book_appointment(
                patient=assessed_patient,
                service=nmpt,
                practitioner=myotherapist,
                start=at(TUESDAY, 10),
            )
        )

        assert error.code == "practitioner_unavailable"
        assert "practitioner" in error.fields

    def test_an_inactive_patient_is_refused(self, assessment, myotherapist):
        archived = PatientFactory(is_active=False)

        error = refusal(
            lambda: book_appointment(
                patient=archived,
                service=assessment,
                practitioner=myotherapist,
                start=at(TUESDAY, 10),
            )
        )

        assert error.code == "patient_inactive"


class TestOnlineRules:
    def book_online(self, patient, service, practitioner, start):
        return book_appointment(
            patient=patient,
            service=service,
            practitioner=practitioner,
            start=start,
            source=Source.ONLINE,
        )

    @pytest.mark.parametrize(
        ("start", "code"),
        [
            (at(TODAY, 9, 30), "inside_lead_time"),
            (at(TODAY + timedelta(days=60), 10), "beyond_booking_horizon"),
            (at(TUESDAY, 10, 5), "not_on_slot_grid"),
        ],
    )
    def test_patients_are_held_to_the_online_rules(
        self, new_patient, assessment, myotherapist, start, code
    ):
        error = refusal(lambda: self.book_online(new_patient, assessment, myotherapist, start))

        assert error.code == code

    def test_reception_is_not(self, new_patient, other_patient, assessment, myotherapist):
        soon = book_appointment(
            patient=new_patient,
            service=assessment,
            practitioner=myotherapist,
            start=at(TODAY, 9, 5),
        )

        assert soon.status == Status.BOOKED

    def test_services_not_bookable_online_are_refused_online(self, new_patient, myotherapist):
        phone_only = ServiceFactory(is_assessment=True, bookable_online=False)

        error = refusal(
            lambda: self.book_online(new_patient, phone_only, myotherapist, at(TUESDAY, 10))
        )

        assert error.code == "not_bookable_online"

    def test_every_offered_online_slot_can_be_booked_online(
        self, assessment, myotherapist, second_myotherapist
    ):
        slots = free_slots(assessment, TODAY, TUESDAY, online=True)
        # Both practitioners work on Tuesday: with nothing offered there is nothing tested.
        assert {slot.practitioner_id for slot in slots} == {
            myotherapist.pk,
            second_myotherapist.pk,
        }

        for slot in slots[:: max(1, len(slots) // 12)]:
            appointment = self.book_online(
                PatientFactory(),
                assessment,
                myotherapist if slot.practitioner_id == myotherapist.pk else second_myotherapist,
                slot.start,
            )
            assert appointment.start == slot.start


def test_price_is_kept_at_booking_time(new_patient, assessment, myotherapist):
    appointment = book_appointment(
        patient=new_patient, service=assessment, practitioner=myotherapist, start=at(TUESDAY, 10)
    )
    assessment.price = Decimal("150.00")
    assessment.save()

    appointment.refresh_from_db()
    assert appointment.price == Decimal("110.00")


def test_a_session_across_the_clock_change_lasts_its_real_duration(
    new_patient, assessment, location, treatment_rooms
):
    # Clocks go back from 03:00 to 02:00 on 4 April 2027. A session at 02:30 (the first
    # time round) ends 60 real minutes later, at 02:30 again on the wall clock; adding an
    # hour to the wall clock (03:30) would make it two hours long.
    night_owl = PractitionerFactory()
    change_day = TODAY + timedelta(days=13)
    ExtraHours.objects.create(
        practitioner=night_owl,
        location=location,
        date=change_day,
        start_time=time(1),
        end_time=time(4),
    )
    start = at(change_day, 2, 30)

    appointment = book_appointment(
        patient=new_patient, service=assessment, practitioner=night_owl, start=start
    )

    appointment.refresh_from_db()
    assert appointment.end.timestamp() - start.timestamp() == 3600
    assert appointment.blocked_until.timestamp() - start.timestamp() == 3600
