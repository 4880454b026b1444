"""Acceptances racing for one offered time: exactly one booking, every other caller told
politely, and the others' entries stay open.

Each acceptance is its own thread and database connection; a barrier releases them
together, so they race through the hold's row lock and the database's constraints."""

import threading
from collections import Counter

import pytest
from django.db import connection

from appointments.models import Appointment, SlotHold, Status
from appointments.services import book_appointment
from kernel.errors import DomainError
from tests.fixtures.api_clients import client_for
from waitlist.models import OfferPolicy, OfferStatus, WaitlistEntry, WaitlistOffer
from waitlist.offers import accept_offer, process_freed_time, sweep_offers

from .offer_helpers import FREED_AT, book_then_cancel, link, wait_for, waiting_patient

pytestmark = pytest.mark.django_db(transaction=True)


def race(calls) -> list[str]:
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = []

    def run(call) -> None:
        try:
            barrier.wait(timeout=30)
            call()
            outcomes.append("booked")
        except DomainError as refusal:
            outcomes.append(refusal.code)
        except Exception as error:  # an IntegrityError or a deadlock would be a 500
            outcomes.append(type(error).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.fixture
def two_offers(location, treatment_rooms, myotherapist, assessment, myotherapy, reception):
    """The freed time offered to two patients at once (the policy says two)."""
    OfferPolicy.objects.create(service=None, offers_at_once=2)
    people = [
        waiting_patient(
            name,
            location=location,
            room=treatment_rooms[1],
            practitioner=myotherapist,
            assessment=assessment,
        )
        for name in ("Bea", "Cas", "Dee")
    ]
    for patient in people[:2]:
        wait_for(patient, myotherapy, reception)
    book_then_cancel(people[2], myotherapy, myotherapist)
    process_freed_time()
    offers = list(WaitlistOffer.objects.filter(status=OfferStatus.OFFERED))
    assert len(offers) == 2 and len({o.hold_id for o in offers}) == 1
    return offers


def test_two_candidates_accepting_at_once_make_exactly_one_booking(two_offers):
    outcomes = race([lambda offer=offer: accept_offer(offer=offer) for offer in two_offers])

    assert Counter(outcomes) == {"booked": 1, "offer_taken": 1}
    assert Appointment.objects.filter(start=FREED_AT, status=Status.BOOKED).count() == 1
    assert not SlotHold.objects.exists()
    statuses = Counter(WaitlistOffer.objects.values_list("status", flat=True))
    assert statuses == {OfferStatus.ACCEPTED: 1, OfferStatus.WITHDRAWN: 1}
    # The one who lost stays on the list.
    assert WaitlistEntry.objects.filter(ended_at__isnull=True).count() == 1


def test_the_same_link_twice_at_once_books_once(two_offers):
    offer = two_offers[0]

    outcomes = race([lambda: accept_offer(offer=offer), lambda: accept_offer(offer=offer)])

    assert Counter(outcomes) == {"booked": 1, "offer_used": 1}
    assert Appointment.objects.filter(start=FREED_AT, status=Status.BOOKED).count() == 1


@pytest.fixture
def one_offer(location, treatment_rooms, myotherapist, assessment, myotherapy, reception):
    """The freed time offered to Bea; Eve is who reception books into it."""
    bea, dee, eve = (
        waiting_patient(
            name,
            location=location,
            room=treatment_rooms[1],
            practitioner=myotherapist,
            assessment=assessment,
        )
        for name in ("Bea", "Dee", "Eve")
    )
    wait_for(bea, myotherapy, reception)
    book_then_cancel(dee, myotherapy, myotherapist)
    process_freed_time()
    return WaitlistOffer.objects.get(status=OfferStatus.OFFERED), eve


@pytest.mark.parametrize("round_", range(3))
def test_reception_booking_and_the_patient_accepting_at_once_book_once(
    one_offer, myotherapy, myotherapist, round_
):
    offer, eve = one_offer

    outcomes = race(
        [
            lambda: accept_offer(offer=offer),
            lambda: book_appointment(
                patient=eve, service=myotherapy, practitioner=myotherapist, start=FREED_AT
            ),
        ]
    )

    # Whoever locked the hold's row first books; the other is told why, never a 500.
    assert outcomes.count("booked") == 1, outcomes
    assert set(outcomes) - {"booked"} <= {"offer_taken", "slot_unavailable"}, outcomes
    assert Appointment.objects.filter(start=FREED_AT, status=Status.BOOKED).count() == 1
    assert not SlotHold.objects.exists()
    sweep_offers()
    offer.refresh_from_db()
    accepted = offer.status == OfferStatus.ACCEPTED
    assert accepted == ("offer_taken" not in outcomes)
    if not accepted:
        assert offer.status == OfferStatus.WITHDRAWN


def test_the_desk_and_the_link_at_once_over_http_answer_201_or_409(
    one_offer, myotherapy, myotherapist, reception
):
    offer, eve = one_offer
    statuses: list[int] = []

    def desk() -> None:
        statuses.append(
            client_for(reception)
            .post(
                "/api/v1/appointments/",
                {
                    "patient": eve.pk,
                    "service": myotherapy.pk,
                    "practitioner": myotherapist.pk,
                    "start": FREED_AT.isoformat(),
                },
                format="json",
            )
            .status_code
        )

    def link_() -> None:
        statuses.append(client_for().post(link(offer, "accept")).status_code)

    race([desk, link_])

    assert sorted(statuses) in ([200, 409], [201, 409]), statuses
    assert Appointment.objects.filter(start=FREED_AT, status=Status.BOOKED).count() == 1
