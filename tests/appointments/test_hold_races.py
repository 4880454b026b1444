"""Holds under concurrency: fifty people holding one time at once, holders racing bookers,
and the availability cache, which must never offer a held time and must offer it again the
moment the hold expires (nothing writes then to move the diary version on).

Transactional: each thread has its own connection, and the diary versions move on commit.
"""

import json
from collections import Counter
from datetime import timedelta

import pytest
from django.core.cache import cache

from appointments.models import Appointment, SlotHold, Source, Status
from appointments.services import book_appointment, hold_slot, release_hold
from appointments.slot_cache import Question, available_slots_json
from practice.models import BookingRules, Service
from tests.appointments.test_concurrency import race
from tests.factories import PatientFactory
from tests.fixtures.clinic import TODAY, at

pytestmark = pytest.mark.django_db(transaction=True)

TUESDAY = TODAY + timedelta(days=1)
TEN = at(TUESDAY, 10)
HOLDERS = 50


@pytest.fixture(autouse=True)
def rules_and_cache():
    BookingRules.current()  # as migrated (the flush removed it)
    cache.clear()
    yield
    cache.clear()


def visitor_holding(service, practitioner, n: int, start=TEN):
    return lambda: hold_slot(
        service=service,
        practitioner=practitioner,
        start=start,
        client_ip=f"10.0.{n // 250}.{n % 250}",
    )


def test_fifty_people_holding_one_time_get_one_hold(assessment, myotherapist):
    outcomes = race([visitor_holding(assessment, myotherapist, n) for n in range(HOLDERS)])

    assert outcomes == Counter({"booked": 1, "slot_unavailable": HOLDERS - 1})
    assert SlotHold.objects.count() == 1


def test_holders_and_bookers_racing_for_one_time_one_wins(assessment, myotherapist):
    patients = [PatientFactory() for _ in range(HOLDERS // 2)]
    bookers = [
        lambda p=p: book_appointment(
            patient=p,
            service=assessment,
            practitioner=myotherapist,
            start=TEN,
            source=Source.ONLINE,
        )
        for p in patients
    ]
    holders = [visitor_holding(assessment, myotherapist, n) for n in range(HOLDERS // 2)]

    outcomes = race([x for pair in zip(bookers, holders, strict=True) for x in pair])

    assert outcomes == Counter({"booked": 1, "slot_unavailable": HOLDERS - 1})
    taken = SlotHold.objects.count() + Appointment.objects.filter(status=Status.BOOKED).count()
    assert taken == 1


def test_holders_and_bookers_racing_for_the_last_room_one_wins(
    assessment, myotherapist, second_myotherapist, treatment_rooms
):
    # Different practitioners, one room left: only the room place is raced for.
    treatment_rooms[1].is_active = False
    treatment_rooms[1].save()
    patients = [PatientFactory() for _ in range(10)]
    bookers = [
        lambda p=p: book_appointment(
            patient=p,
            service=assessment,
            practitioner=second_myotherapist,
            start=TEN,
            source=Source.ONLINE,
        )
        for p in patients
    ]
    holders = [visitor_holding(assessment, myotherapist, n) for n in range(10)]

    outcomes = race([x for pair in zip(bookers, holders, strict=True) for x in pair])

    assert outcomes == Counter({"booked": 1, "slot_unavailable": 19})


def test_converting_a_hold_while_others_grab_the_time(assessment, myotherapist, assessed_patient):
    held = hold_slot(
        service=assessment, practitioner=myotherapist, start=TEN, patient=assessed_patient
    )
    converting = lambda: book_appointment(  # noqa: E731
        patient=assessed_patient,
        service=assessment,
        practitioner=myotherapist,
        start=TEN,
        source=Source.ONLINE,
        hold=held,
    )
    others = [visitor_holding(assessment, myotherapist, n) for n in range(19)]

    outcomes = race([converting, *others])

    assert outcomes == Counter({"booked": 1, "slot_unavailable": 19})
    assert Appointment.objects.get(start=TEN).patient == assessed_patient
    assert not SlotHold.objects.exists()


def _cached_starts(service, now) -> set[str]:
    asked = ("hold-test", service.pk)

    def read() -> Question:
        return Question(Service.objects.get(pk=service.pk), TUESDAY, TUESDAY)

    body = json.loads(available_slots_json(asked, read, online=True, now=now))
    return {slot["start"] for slot in body["slots"]}


def test_the_cache_never_offers_a_held_time_and_offers_it_again_when_it_expires(
    assessment, myotherapist, frozen_now, settings
):
    ten = TEN.isoformat()
    assert ten in _cached_starts(assessment, TEN - timedelta(days=1))  # kept now

    held = hold_slot(service=assessment, practitioner=myotherapist, start=TEN)
    assert ten not in _cached_starts(assessment, held.created_at)
    assert ten not in _cached_starts(assessment, held.expires_at - timedelta(seconds=1))

    # Nothing is written when it expires; the kept answer knows when to be computed again.
    assert ten in _cached_starts(assessment, held.expires_at)


def test_the_cache_offers_a_released_time_again(assessment, myotherapist):
    held = hold_slot(service=assessment, practitioner=myotherapist, start=TEN)
    assert TEN.isoformat() not in _cached_starts(assessment, held.created_at)

    release_hold(hold_id=held.pk)

    assert TEN.isoformat() in _cached_starts(assessment, held.created_at)
