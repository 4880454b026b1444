"""Group classes under concurrency: twenty patients booking the last two places at once, and
a class and a one-to-one booking of its coach made at the same moment.

Transactional: each thread has its own connection (`test_concurrency.race`)."""

from collections import Counter
from datetime import timedelta

import pytest

from appointments.classes import book_place, schedule_class
from appointments.models import Appointment, GroupClass, PlaceStatus, Source, Status
from appointments.services import book_appointment
from practice.models import BookingRules
from tests.appointments.test_concurrency import race
from tests.factories import PatientFactory
from tests.fixtures.clinic import TODAY, at

pytestmark = pytest.mark.django_db(transaction=True)

TUESDAY = TODAY + timedelta(days=1)
BOOKERS = 20


@pytest.fixture(autouse=True)
def patients_need_no_assessment():
    rules = BookingRules.current()  # as migrated (the flush removed it)
    rules.new_patients_start_with_assessment = False
    rules.save()


def test_twenty_patients_booking_the_last_two_places_get_two(nmpt_group, coach, location, gym):
    group_class = schedule_class(
        service=nmpt_group, practitioner=coach, location=location, start=at(TUESDAY, 10), capacity=4
    )
    for _ in range(2):
        book_place(group_class=group_class, patient=PatientFactory())
    patients = [PatientFactory() for _ in range(BOOKERS)]

    outcomes = race(
        [
            lambda p=p: book_place(group_class=group_class, patient=p, source=Source.ONLINE)
            for p in patients
        ]
    )

    assert outcomes == Counter({"booked": 2, "class_full": BOOKERS - 2})
    booked = group_class.places.filter(status=PlaceStatus.BOOKED)
    assert sorted(booked.values_list("seat", flat=True)) == [1, 2, 3, 4]


def test_a_class_and_a_booking_of_its_coach_at_once_one_wins(nmpt_group, nmpt, coach, location):
    def schedule():
        schedule_class(
            service=nmpt_group,
            practitioner=coach,
            location=location,
            start=at(TUESDAY, 10),
            capacity=4,
        )

    def book(patient):
        book_appointment(
            patient=patient, service=nmpt, practitioner=coach, start=at(TUESDAY, 10, 30)
        )

    patients = [PatientFactory() for _ in range(5)]

    outcomes = race([schedule, *[lambda p=p: book(p) for p in patients]])

    assert outcomes == Counter({"booked": 1, "slot_unavailable": 5})
    classes = GroupClass.objects.count()
    bookings = Appointment.objects.filter(status=Status.BOOKED).count()
    assert classes + bookings == 1
