"""Slot holds: a time kept for someone for a few minutes is not offered and cannot be booked
or held by anyone else, until it expires or is released; booking with it converts it. The
database refuses what the checks would miss (triggers beside the exclusion constraints)."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from appointments.availability import free_slots
from appointments.models import Appointment, SlotHold, Source, Status
from appointments.services import (
    book_appointment,
    end_expired_holds,
    hold_slot,
    release_hold,
)
from appointments.tasks import end_expired_holds as end_expired_holds_task
from kernel.errors import DomainError
from tests.factories import AppointmentFactory, PatientFactory
from tests.fixtures.clinic import TODAY, at

TUESDAY = TODAY + timedelta(days=1)
TEN = at(TUESDAY, 10)


def hold(service, practitioner, start=TEN, **kwargs):
    kwargs.setdefault("client_ip", "203.0.113.7")
    return hold_slot(service=service, practitioner=practitioner, start=start, **kwargs)


def offered(service, practitioner=None):
    return {
        s.start
        for s in free_slots(service, TUESDAY, TUESDAY, practitioner=practitioner, online=True)
    }


def book(patient, service, practitioner, start=TEN, **kwargs):
    return book_appointment(
        patient=patient,
        service=service,
        practitioner=practitioner,
        start=start,
        source=Source.ONLINE,
        **kwargs,
    )


@pytest.fixture
def another_patient(location, treatment_rooms, myotherapist, assessment):
    return PatientFactory(first_name="Bea")


class TestHolding:
    def test_a_hold_keeps_the_time_for_the_minutes_set(self, assessment, myotherapist, settings):
        settings.HOLD_MINUTES = 7

        held = hold(assessment, myotherapist)

        assert held.start == TEN
        assert held.end == TEN + timedelta(minutes=60)
        assert held.expires_at - held.created_at == timedelta(minutes=7)
        assert held.patient is None and held.client_ip == "203.0.113.7"

    def test_a_held_time_is_not_offered(self, assessment, myotherapist):
        assert TEN in offered(assessment, myotherapist)

        hold(assessment, myotherapist)

        assert TEN not in offered(assessment, myotherapist)
        # Overlapping starts go too: the practitioner is held for the whole session.
        assert at(TUESDAY, 9, 30) not in offered(assessment, myotherapist)
        assert at(TUESDAY, 11) in offered(assessment, myotherapist)

    def test_nobody_else_can_book_a_held_time(self, assessment, myotherapist, another_patient):
        hold(assessment, myotherapist)

        with pytest.raises(DomainError) as refused:
            book(another_patient, assessment, myotherapist)

        assert refused.value.code == "slot_unavailable"
        assert not Appointment.objects.exists()

    def test_nobody_else_can_hold_a_held_time(self, assessment, myotherapist):
        hold(assessment, myotherapist)

        with pytest.raises(DomainError) as refused:
            hold(assessment, myotherapist, start=at(TUESDAY, 10, 30), client_ip="198.51.100.1")

        assert refused.value.code == "slot_unavailable"
        assert SlotHold.objects.count() == 1

    def test_a_booked_time_cannot_be_held(self, assessment, myotherapist, another_patient):
        book(another_patient, assessment, myotherapist)

        with pytest.raises(DomainError) as refused:
            hold(assessment, myotherapist)

        assert refused.value.code == "slot_unavailable"

    def test_a_hold_takes_a_room_place(
        self, assessment, myotherapist, second_myotherapist, treatment_rooms, another_patient
    ):
        # One treatment room left: the hold takes it, so the other practitioner has none.
        treatment_rooms[1].is_active = False
        treatment_rooms[1].save()
        hold(assessment, myotherapist)

        assert TEN not in offered(assessment, second_myotherapist)
        with pytest.raises(DomainError) as refused:
            book(another_patient, assessment, second_myotherapist)
        assert refused.value.code == "slot_unavailable"

    def test_a_booking_takes_another_room_than_the_held_one(
        self, assessment, myotherapist, second_myotherapist, another_patient
    ):
        held = hold(assessment, myotherapist)

        booked = book(another_patient, assessment, second_myotherapist)

        assert booked.room_id != held.room_id

    def test_the_online_rules_apply(self, assessment, myotherapist):
        with pytest.raises(DomainError) as refused:
            hold(assessment, myotherapist, start=at(TODAY, 9))

        assert refused.value.code == "inside_lead_time"

    def test_a_new_patient_holds_only_an_assessment(self, myotherapy, myotherapist, new_patient):
        with pytest.raises(DomainError) as refused:
            hold(myotherapy, myotherapist, patient=new_patient)

        assert refused.value.code == "new_patient_needs_assessment"

    def test_a_visitor_may_hold_any_online_service(self, myotherapy, myotherapist):
        # Who they are is not known yet: the new-patient rule waits for the booking.
        assert hold(myotherapy, myotherapist).patient is None


class TestConverting:
    def test_booking_with_the_hold_books_its_time_and_ends_it(
        self, assessment, myotherapist, assessed_patient
    ):
        held = hold(assessment, myotherapist, patient=assessed_patient)

        booked = book(assessed_patient, assessment, myotherapist, hold=held)

        assert booked.status == Status.BOOKED and booked.start == TEN
        assert not SlotHold.objects.exists()

    def test_a_visitors_hold_is_booked_by_whoever_signs_in_with_it(
        self, assessment, myotherapist, new_patient
    ):
        held = hold(assessment, myotherapist)

        booked = book(new_patient, assessment, myotherapist, hold=held)

        assert booked.patient == new_patient
        assert not SlotHold.objects.exists()

    def test_another_patients_hold_is_refused(
        self, assessment, myotherapist, assessed_patient, another_patient
    ):
        held = hold(assessment, myotherapist, patient=assessed_patient)

        with pytest.raises(DomainError) as refused:
            book(another_patient, assessment, myotherapist, hold=held)

        assert refused.value.code == "hold_expired"
        assert SlotHold.objects.filter(pk=held.pk).exists()

    def test_an_expired_hold_is_refused_even_if_the_time_is_free(
        self, assessment, myotherapist, assessed_patient, frozen_now, settings
    ):
        held = hold(assessment, myotherapist, patient=assessed_patient)
        frozen_now.shift(timedelta(minutes=settings.HOLD_MINUTES))

        with pytest.raises(DomainError) as refused:
            book(assessed_patient, assessment, myotherapist, hold=held)

        assert refused.value.code == "hold_expired"

    def test_a_refused_booking_keeps_the_hold(self, myotherapy, myotherapist, new_patient):
        held = hold(myotherapy, myotherapist)

        with pytest.raises(DomainError) as refused:
            book(new_patient, myotherapy, myotherapist, hold=held)

        assert refused.value.code == "new_patient_needs_assessment"
        assert SlotHold.objects.filter(pk=held.pk).exists()


class TestEnding:
    def test_an_expired_hold_blocks_nothing(
        self, assessment, myotherapist, another_patient, frozen_now, settings
    ):
        hold(assessment, myotherapist)
        frozen_now.shift(timedelta(minutes=settings.HOLD_MINUTES))

        assert TEN in offered(assessment, myotherapist)
        assert book(another_patient, assessment, myotherapist).start == TEN
        assert not SlotHold.objects.exists()

    def test_an_expired_hold_can_be_held_again(
        self, assessment, myotherapist, frozen_now, settings
    ):
        hold(assessment, myotherapist)
        frozen_now.shift(timedelta(minutes=settings.HOLD_MINUTES, seconds=1))

        again = hold(assessment, myotherapist, client_ip="198.51.100.1")

        assert SlotHold.objects.get() == again

    def test_an_expired_holds_room_place_blocks_nothing(
        self,
        assessment,
        myotherapist,
        second_myotherapist,
        treatment_rooms,
        another_patient,
        frozen_now,
        settings,
    ):
        treatment_rooms[1].is_active = False
        treatment_rooms[1].save()
        hold(assessment, myotherapist)
        frozen_now.shift(timedelta(minutes=settings.HOLD_MINUTES))

        assert book(another_patient, assessment, second_myotherapist).start == TEN

    def test_release_frees_the_time(self, assessment, myotherapist, another_patient):
        held = hold(assessment, myotherapist)

        release_hold(hold_id=held.pk)

        assert TEN in offered(assessment, myotherapist)
        assert book(another_patient, assessment, myotherapist).start == TEN

    def test_beat_deletes_expired_holds_only(self, assessment, myotherapist, frozen_now, settings):
        old = hold(assessment, myotherapist)
        frozen_now.shift(timedelta(minutes=settings.HOLD_MINUTES))
        young = hold(assessment, myotherapist, start=at(TUESDAY, 14), client_ip="198.51.100.1")

        assert end_expired_holds_task() == 1
        assert list(SlotHold.objects.all()) == [young]
        assert end_expired_holds() == 0
        assert not SlotHold.objects.filter(pk=old.pk).exists()


class TestLimits:
    def test_a_visitors_address_holds_so_many_times(self, assessment, myotherapist, settings):
        settings.HOLDS_PER_IP = 2
        hold(assessment, myotherapist, start=at(TUESDAY, 9))
        hold(assessment, myotherapist, start=at(TUESDAY, 11))

        with pytest.raises(DomainError) as refused:
            hold(assessment, myotherapist, start=at(TUESDAY, 13))

        assert refused.value.code == "too_many_holds"
        assert hold(assessment, myotherapist, start=at(TUESDAY, 13), client_ip="198.51.100.1")

    def test_a_patient_holds_so_many_times(
        self, assessment, myotherapist, assessed_patient, settings
    ):
        settings.HOLDS_PER_PATIENT = 2
        for hour, ip in ((9, "198.51.100.1"), (11, "198.51.100.2")):
            hold(
                assessment,
                myotherapist,
                start=at(TUESDAY, hour),
                patient=assessed_patient,
                client_ip=ip,
            )

        with pytest.raises(DomainError) as refused:
            hold(assessment, myotherapist, start=at(TUESDAY, 13), patient=assessed_patient)

        assert refused.value.code == "too_many_holds"

    def test_expired_holds_do_not_count(self, assessment, myotherapist, frozen_now, settings):
        settings.HOLDS_PER_IP = 1
        hold(assessment, myotherapist, start=at(TUESDAY, 9))
        frozen_now.shift(timedelta(minutes=settings.HOLD_MINUTES))

        assert hold(assessment, myotherapist, start=at(TUESDAY, 11))


class TestTheDatabaseRefuses:
    """Writes that skip the services (the admin, a seed, raw SQL) meet the same rule."""

    def test_an_appointment_over_a_hold(self, assessment, myotherapist, another_patient):
        held = hold(assessment, myotherapist)

        with pytest.raises(IntegrityError) as refused, transaction.atomic():
            AppointmentFactory(
                patient=another_patient,
                practitioner=myotherapist,
                service=assessment,
                location=held.location,
                room=held.room,
                start=TEN,
            )
        assert refused.value.__cause__.diag.constraint_name == "appointment_held_practitioner"

    def test_a_hold_over_an_appointment(self, assessment, myotherapist, another_patient):
        booked = book(another_patient, assessment, myotherapist)

        with pytest.raises(IntegrityError) as refused, transaction.atomic():
            SlotHold.objects.create(
                service=assessment,
                practitioner=myotherapist,
                location=booked.location,
                room=booked.room,
                start=TEN,
                end=booked.end,
                blocked_until=booked.blocked_until,
                expires_at=TEN,
                created_at=TEN,
            )
        assert refused.value.__cause__.diag.constraint_name == "slot_hold_booked_practitioner"

    def test_a_cancelled_appointment_does_not_block_a_hold(
        self, assessment, myotherapist, another_patient
    ):
        booked = book(another_patient, assessment, myotherapist)
        Appointment.objects.filter(pk=booked.pk).update(
            status=Status.CANCELLED, cancelled_at=booked.created_at
        )

        assert hold(assessment, myotherapist).start == TEN
