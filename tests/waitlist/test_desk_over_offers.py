"""Reception takes precedence over the clinic's own offer of a time: a booking or a move by
staff over an offered time ends the offer's hold in its own transaction, so the offer is
withdrawn and its link says the time is taken. Online bookings and the holds of patients
and visitors are refused as before."""

from datetime import timedelta

import pytest
from django.urls import reverse

from appointments.availability import free_slots
from appointments.models import Appointment, SlotHold, Source, Status
from appointments.selectors import offered_times
from appointments.services import book_appointment, hold_slot, reschedule_appointment
from diary.admin_forms import slot_value
from kernel.errors import DomainError
from notifications.models import Delivery
from tests.factories import PractitionerFactory
from tests.fixtures.api_clients import client_for
from tests.fixtures.clinic import at, work_every_day
from waitlist.models import OfferStatus, WaitlistOffer
from waitlist.offers import accept_offer, process_freed_time, status_now, sweep_offers

from .offer_helpers import (
    FREED_AT,
    TOMORROW,
    book_then_cancel,
    link,
    offer_messages,
    wait_for,
    waiting_patient,
)


@pytest.fixture
def scene(location, treatment_rooms, myotherapist, assessment, myotherapy, reception):
    """Bea waits for myotherapy; Dee's cancelled booking tomorrow at 10:00 is offered to
    her; Eve is the patient reception books."""

    def patient(name):
        return waiting_patient(
            name,
            location=location,
            room=treatment_rooms[1],
            practitioner=myotherapist,
            assessment=assessment,
        )

    bea, dee, eve = patient("Bea"), patient("Dee"), patient("Eve")
    wait_for(bea, myotherapy, reception)
    book_then_cancel(dee, myotherapy, myotherapist)
    process_freed_time()
    offer = WaitlistOffer.objects.get(status=OfferStatus.OFFERED)
    return {"bea": bea, "dee": dee, "eve": eve, "offer": offer}


def assert_withdrawn(offer: WaitlistOffer) -> None:
    """The time is no longer the offer's: its link says so at once, accepting it is
    `offer_taken`, and beat's sweep marks it withdrawn (its unsent message too)."""
    assert not SlotHold.objects.filter(pk=offer.hold_id).exists()
    assert status_now(offer) == OfferStatus.WITHDRAWN
    with pytest.raises(DomainError) as refused:
        accept_offer(offer=offer)
    assert refused.value.code == "offer_taken"
    assert sweep_offers() == 1
    offer.refresh_from_db()
    assert offer.status == OfferStatus.WITHDRAWN
    assert set(offer_messages(offer).values_list("status", flat=True)) == {Delivery.WITHDRAWN}


def test_reception_books_over_an_offered_time_and_the_offer_is_withdrawn(
    scene, myotherapy, myotherapist
):
    booked = book_appointment(
        patient=scene["eve"], service=myotherapy, practitioner=myotherapist, start=FREED_AT
    )

    assert (booked.patient, booked.start, booked.status) == (scene["eve"], FREED_AT, Status.BOOKED)
    assert_withdrawn(scene["offer"])
    assert not scene["bea"].appointments.filter(start=FREED_AT).exists()


def test_a_booking_overlapping_part_of_the_offered_time_ends_its_hold_too(
    scene, myotherapy, myotherapist
):
    book_appointment(
        patient=scene["eve"],
        service=myotherapy,
        practitioner=myotherapist,
        start=FREED_AT + timedelta(minutes=30),
    )

    assert_withdrawn(scene["offer"])


def test_reception_moves_a_booking_over_an_offered_time(scene, myotherapy, myotherapist):
    elsewhere = book_appointment(
        patient=scene["eve"],
        service=myotherapy,
        practitioner=myotherapist,
        start=FREED_AT + timedelta(hours=4),
    )

    moved = reschedule_appointment(appointment=elsewhere, start=FREED_AT)

    assert moved.start == FREED_AT
    assert_withdrawn(scene["offer"])


def test_an_online_booking_over_an_offered_time_is_refused(scene, myotherapy, myotherapist):
    with pytest.raises(DomainError) as refused:
        book_appointment(
            patient=scene["eve"],
            service=myotherapy,
            practitioner=myotherapist,
            start=FREED_AT,
            source=Source.ONLINE,
        )

    assert refused.value.code == "slot_unavailable"
    assert SlotHold.objects.filter(pk=scene["offer"].hold_id).exists()
    assert status_now(scene["offer"]) == OfferStatus.OFFERED


def test_a_patient_moving_online_over_an_offered_time_is_refused(scene, myotherapy, myotherapist):
    elsewhere = book_appointment(
        patient=scene["eve"],
        service=myotherapy,
        practitioner=myotherapist,
        start=FREED_AT + timedelta(days=2),
    )

    with pytest.raises(DomainError) as refused:
        reschedule_appointment(appointment=elsewhere, start=FREED_AT, online=True)

    assert refused.value.code == "slot_unavailable"
    assert SlotHold.objects.filter(pk=scene["offer"].hold_id).exists()


def test_a_patients_own_hold_still_refuses_reception(scene, myotherapy, myotherapist):
    later = FREED_AT + timedelta(hours=4)
    hold_slot(service=myotherapy, practitioner=myotherapist, start=later, patient=scene["dee"])

    with pytest.raises(DomainError) as refused:
        book_appointment(
            patient=scene["eve"], service=myotherapy, practitioner=myotherapist, start=later
        )

    assert refused.value.code == "slot_unavailable"
    assert SlotHold.objects.filter(patient=scene["dee"]).exists()


def test_a_visitors_hold_still_refuses_reception(scene, myotherapy, myotherapist):
    later = FREED_AT + timedelta(hours=4)
    hold_slot(service=myotherapy, practitioner=myotherapist, start=later, client_ip="203.0.113.9")

    with pytest.raises(DomainError) as refused:
        book_appointment(
            patient=scene["eve"], service=myotherapy, practitioner=myotherapist, start=later
        )

    assert refused.value.code == "slot_unavailable"


def test_reception_books_an_offered_time_in_the_admin(
    scene, reception_staff, myotherapy, myotherapist, location
):
    response = reception_staff.post(
        reverse("admin:appointments_appointment_book"),
        {
            "patient": scene["eve"].pk,
            "service": myotherapy.pk,
            "date": TOMORROW.isoformat(),
            "practitioner": myotherapist.pk,
            "location": location.pk,
            "slot": slot_value(myotherapist.pk, location.pk, FREED_AT),
            "book": "1",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    booked = Appointment.objects.get(patient=scene["eve"], start=FREED_AT)
    assert booked.source == Source.RECEPTION
    assert_withdrawn(scene["offer"])


def test_reception_books_an_offered_time_through_the_staff_api(
    scene, reception, myotherapy, myotherapist, anonymous
):
    response = client_for(reception).post(
        "/api/v1/appointments/",
        {
            "patient": scene["eve"].pk,
            "service": myotherapy.pk,
            "practitioner": myotherapist.pk,
            "start": FREED_AT.isoformat(),
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    offer = scene["offer"]
    assert anonymous.get(link(offer)).json()["status"] == "withdrawn"
    refused = anonymous.post(link(offer, "accept"))
    assert refused.status_code == 409 and refused.json()["code"] == "offer_taken"
    assert sweep_offers() == 1


# --- what reception is shown --------------------------------------------------------------


def test_staff_find_the_offered_time_free_and_patients_online_do_not(
    scene, myotherapy, myotherapist
):
    staff = {slot.start for slot in free_slots(myotherapy, TOMORROW, TOMORROW, myotherapist)}
    online = {
        slot.start for slot in free_slots(myotherapy, TOMORROW, TOMORROW, myotherapist, online=True)
    }

    assert FREED_AT in staff
    assert FREED_AT not in online
    assert at(TOMORROW, 12) in online & staff


def test_the_offered_times_room_stays_taken_for_other_practitioners(
    scene, myotherapy, myotherapist, second_myotherapist, location, treatment_rooms
):
    """Max cannot book over Mia's offer: its hold keeps the room place it would use, and
    the other treatment room is booked by Zoe. Mia can: her booking ends her own offer."""
    zoe = PractitionerFactory(user__first_name="Zoe", user__last_name="Myo")
    work_every_day(zoe, location)
    book_appointment(patient=scene["dee"], service=myotherapy, practitioner=zoe, start=FREED_AT)

    def staff_starts(practitioner):
        return {s.start for s in free_slots(myotherapy, TOMORROW, TOMORROW, practitioner)}

    assert FREED_AT in staff_starts(myotherapist)
    assert FREED_AT not in staff_starts(second_myotherapist)
    with pytest.raises(DomainError):
        book_appointment(
            patient=scene["eve"],
            service=myotherapy,
            practitioner=second_myotherapist,
            start=FREED_AT,
        )
    assert (
        book_appointment(
            patient=scene["eve"], service=myotherapy, practitioner=myotherapist, start=FREED_AT
        ).start
        == FREED_AT
    )


def test_offered_times_names_the_offered_slots_and_when_their_hold_ends(
    scene, myotherapy, myotherapist
):
    slots = free_slots(myotherapy, TOMORROW, TOMORROW, myotherapist)

    offered = offered_times(slots)

    # Every slot overlapping the held time: booking any of them ends the offer.
    hold = SlotHold.objects.get(pk=scene["offer"].hold_id)
    overlapping = {s.start for s in slots if s.start < hold.blocked_until and hold.start < s.end}
    assert FREED_AT in overlapping
    assert {slot.start for slot in offered} == overlapping
    assert set(offered.values()) == {scene["offer"].expires_at}


def test_the_admin_lists_the_offered_time_saying_it_is_offered(
    scene, reception_staff, myotherapy, myotherapist, location
):
    response = reception_staff.post(
        reverse("admin:appointments_appointment_book"),
        {
            "service": myotherapy.pk,
            "date": TOMORROW.isoformat(),
            "practitioner": myotherapist.pk,
            "location": location.pk,
            "find": "1",
        },
    )

    choices = dict(response.context["form"].fields["slot"].widget.choices)
    label = choices[slot_value(myotherapist.pk, location.pk, FREED_AT)]
    until = scene["offer"].expires_at.astimezone(location.zone)
    # The hold ends the day before the time it offers: the day is named.
    assert until.date() < TOMORROW
    assert label.endswith(
        f"· offered to the waitlist until {until:%a %H:%M} (booking it withdraws the offer)"
    ), label
    later = choices[slot_value(myotherapist.pk, location.pk, at(TOMORROW, 12))]
    assert "offered" not in later


def test_the_staff_availability_answer_includes_the_offered_time(
    scene, reception, myotherapy, myotherapist, anonymous
):
    query = {
        "service": myotherapy.pk,
        "practitioner": myotherapist.pk,
        "from": TOMORROW.isoformat(),
        "to": TOMORROW.isoformat(),
    }

    def starts(client):
        answer = client.get("/api/v1/availability/", query)
        assert answer.status_code == 200, answer.content
        return {slot["start"] for slot in answer.json()["slots"]}

    staff, visitor = starts(client_for(reception)), starts(anonymous)
    offered = FREED_AT.astimezone(scene["offer"].location.zone).isoformat()
    assert offered in staff
    assert offered not in visitor
