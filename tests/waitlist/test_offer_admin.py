"""Reception's offers in the admin: offering a free time by hand from an entry's page, the
live offers with their expiry, withdrawing one (its time free to book at the desk); each
written to the audit log."""

import pytest
from django.urls import reverse

from appointments.models import SlotHold
from appointments.services import book_appointment
from audit.models import Action, AuditEntry
from tests.fixtures.clinic import at
from waitlist.models import OfferStatus, WaitlistOffer

from .offer_helpers import TOMORROW, wait_for, waiting_patient

OFFERS = reverse("admin:waitlist_waitlistoffer_changelist")


@pytest.fixture
def entry(location, treatment_rooms, myotherapist, assessment, myotherapy, reception_staff_user):
    patient = waiting_patient(
        "Bea",
        location=location,
        room=treatment_rooms[1],
        practitioner=myotherapist,
        assessment=assessment,
    )
    return wait_for(patient, myotherapy, reception_staff_user)


def offer_page(entry) -> str:
    return reverse("admin:waitlist_waitlistentry_offer", args=[entry.pk])


def test_reception_offers_a_time_by_hand(reception_staff, entry, myotherapist):
    response = reception_staff.post(
        offer_page(entry),
        {"practitioner": myotherapist.pk, "start": "2027-03-23 14:00"},
    )

    assert response.status_code == 302, response.content
    offer = WaitlistOffer.objects.get()
    assert offer.start == at(TOMORROW, 14) and offer.status == OfferStatus.OFFERED
    assert SlotHold.objects.filter(pk=offer.hold_id).exists()
    assert AuditEntry.objects.filter(action=Action.CREATE, patient_id=entry.patient_id).exists()


def test_a_time_that_is_not_free_is_refused_on_its_field(reception_staff, entry, myotherapist):
    response = reception_staff.post(
        offer_page(entry),
        {"practitioner": myotherapist.pk, "start": "2027-03-23 22:00"},
    )

    assert response.status_code == 200
    assert "start" in response.context["form"].errors
    assert not WaitlistOffer.objects.exists()


def test_the_live_offers_show_their_expiry(reception_staff, entry, myotherapist):
    reception_staff.post(
        offer_page(entry), {"practitioner": myotherapist.pk, "start": "2027-03-23 14:00"}
    )

    response = reception_staff.get(OFFERS, {"live": "yes"})

    assert response.status_code == 200
    (shown,) = response.context["cl"].result_list
    assert shown.expires_at > shown.sent_at


def test_withdrawing_an_offer_releases_its_time_for_the_desk(
    reception_staff, entry, myotherapist, myotherapy, new_patient, assessed_patient
):
    reception_staff.post(
        offer_page(entry), {"practitioner": myotherapist.pk, "start": "2027-03-23 14:00"}
    )
    offer = WaitlistOffer.objects.get()

    response = reception_staff.post(
        OFFERS, {"action": "withdraw_selected", "_selected_action": [offer.pk]}
    )

    assert response.status_code == 302
    offer.refresh_from_db()
    assert offer.status == OfferStatus.WITHDRAWN
    assert not SlotHold.objects.exists()
    booked = book_appointment(
        patient=assessed_patient, service=myotherapy, practitioner=myotherapist, start=offer.start
    )
    assert booked.start == offer.start
    assert AuditEntry.objects.filter(action=Action.UPDATE, patient_id=entry.patient_id).exists()
