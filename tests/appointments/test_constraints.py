"""The database itself refuses double bookings, whatever code writes the rows."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction

from appointments.models import Status
from tests.factories import AppointmentFactory, PatientFactory, PractitionerFactory
from tests.fixtures.clinic import TODAY, at

TUESDAY = TODAY + timedelta(days=1)


@pytest.fixture
def booked(assessed_patient, assessment, myotherapist, location, treatment_rooms):
    return AppointmentFactory(
        patient=assessed_patient,
        practitioner=myotherapist,
        service=assessment,
        location=location,
        room=treatment_rooms[0],
        start=at(TUESDAY, 10),
        status=Status.BOOKED,
    )


def overlapping(booked, **changes):
    fields = {
        "patient": PatientFactory(),
        "practitioner": PractitionerFactory(),
        "service": booked.service,
        "location": booked.location,
        "room": booked.room,
        "room_place": 2,
        "start": booked.start + timedelta(minutes=30),
        "status": Status.BOOKED,
    }
    fields.update(changes)
    return lambda: AppointmentFactory(**fields)


@pytest.mark.parametrize(
    ("changes", "constraint"),
    [
        ({"practitioner": "same"}, "appointment_no_practitioner_overlap"),
        ({"patient": "same"}, "appointment_no_patient_overlap"),
        ({"room_place": 1}, "appointment_no_room_place_overlap"),
    ],
    ids=["practitioner", "patient", "room place"],
)
def test_the_orm_cannot_write_an_overlap(booked, changes, constraint):
    changes = {k: getattr(booked, k) if v == "same" else v for k, v in changes.items()}

    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        overlapping(booked, **changes)()


def test_raw_sql_cannot_write_an_overlap(booked):
    with (
        pytest.raises(IntegrityError, match="appointment_no_practitioner_overlap"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            """
                INSERT INTO appointments_appointment
                    (patient_id, practitioner_id, service_id, location_id, room_id, room_place,
                     start, "end", blocked_until, price, status, source, note,
                     created_at, updated_at, cancellation_reason)
                SELECT %s, practitioner_id, service_id, location_id, room_id, 2,
                       start + interval '59 minutes', "end" + interval '59 minutes',
                       blocked_until + interval '59 minutes', price, 'booked', 'reception', '',
                       now(), now(), ''
                FROM appointments_appointment WHERE id = %s
                """,
            [PatientFactory().pk, booked.pk],
        )


def test_cancelled_rows_do_not_hold_the_time(booked):
    booked.status = Status.CANCELLED
    booked.cancelled_at = booked.start - timedelta(days=1)
    booked.save()

    again = overlapping(booked, practitioner=booked.practitioner, room_place=1)()

    assert again.pk


def test_the_buffer_holds_the_practitioner_but_not_the_patient(booked, myotherapy):
    myotherapy_booked = AppointmentFactory(
        patient=booked.patient,
        practitioner=booked.practitioner,
        service=myotherapy,
        location=booked.location,
        room=booked.room,
        start=booked.start + timedelta(hours=3),
        status=Status.BOOKED,
    )
    right_after = myotherapy_booked.end

    with pytest.raises(IntegrityError, match="practitioner_overlap"), transaction.atomic():
        overlapping(myotherapy_booked, practitioner=booked.practitioner, start=right_after)()
    same_patient_elsewhere = overlapping(
        myotherapy_booked, patient=booked.patient, start=right_after, room_place=1
    )
    with pytest.raises(IntegrityError, match="room_place_overlap"), transaction.atomic():
        same_patient_elsewhere()
    assert overlapping(myotherapy_booked, patient=booked.patient, start=right_after)().pk


def test_a_cancellation_must_say_when(booked):
    booked.status = Status.CANCELLED

    with (
        pytest.raises(IntegrityError, match="appointment_cancellation_recorded"),
        transaction.atomic(),
    ):
        booked.save()


def test_an_appointment_ends_after_it_starts(booked):
    booked.end = booked.start

    with pytest.raises(IntegrityError, match="appointment_times_ordered"), transaction.atomic():
        booked.save()
