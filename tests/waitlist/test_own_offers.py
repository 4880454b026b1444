"""A signed-in patient sees their live offers in their waitlist entries and takes or passes
one by its id: only their own (another's is 404, staff are refused), through the same
`accept_offer` / `decline_offer` and the same refusal codes as the link."""

import pytest
from django.utils.dateparse import parse_datetime

from appointments.models import Source
from appointments.services import book_appointment
from tests.factories import UserFactory
from tests.fixtures.api_clients import client_for
from waitlist.models import EndReason, OfferStatus, WaitlistOffer
from waitlist.offers import process_freed_time

from .offer_helpers import FREED_AT, book_then_cancel, link, wait_for, waiting_patient

ENTRIES = "/api/v1/waitlist/"


def by_id(offer: WaitlistOffer, action: str) -> str:
    return f"/api/v1/waitlist/offers/{offer.public_id}/{action}/"


@pytest.fixture
def scene(location, treatment_rooms, myotherapist, assessment, myotherapy, reception):
    """Bea (signed in) is offered Dee's cancelled time; Cas, also signed in, waits after
    her."""

    def patient(name):
        someone = waiting_patient(
            name,
            location=location,
            room=treatment_rooms[1],
            practitioner=myotherapist,
            assessment=assessment,
        )
        someone.user = UserFactory(email=f"{name.lower()}@example.com")
        someone.save(update_fields=["user"])
        return someone

    bea, cas, dee = patient("Bea"), patient("Cas"), patient("Dee")
    entries = {who: wait_for(who, myotherapy, reception) for who in (bea, cas)}
    book_then_cancel(dee, myotherapy, myotherapist)
    process_freed_time()
    offer = WaitlistOffer.objects.get(status=OfferStatus.OFFERED)
    return {"bea": bea, "cas": cas, "dee": dee, "entries": entries, "offer": offer}


def test_a_patient_sees_their_live_offer_in_their_entry(scene, myotherapy):
    offer = scene["offer"]

    response = client_for(scene["bea"].user).get(ENTRIES)

    assert response.status_code == 200
    (entry,) = response.json()["results"]
    (shown,) = entry["offers"]
    assert shown["id"] == str(offer.public_id)
    assert shown["status"] == "offered"
    assert shown["service"] == myotherapy.name
    assert parse_datetime(shown["start"]) == FREED_AT
    assert parse_datetime(shown["expires_at"]) == offer.expires_at


def test_another_patients_entry_shows_no_offer(scene):
    response = client_for(scene["cas"].user).get(ENTRIES)

    body = response.json()
    (entry,) = body["results"]
    assert entry["offers"] == []


def test_an_offer_no_longer_live_is_not_listed(scene, myotherapy, myotherapist):
    book_appointment(
        patient=scene["dee"], service=myotherapy, practitioner=myotherapist, start=FREED_AT
    )

    body = client_for(scene["bea"].user).get(ENTRIES).json()

    (entry,) = body["results"]
    assert entry["offers"] == []


def test_the_patient_takes_their_offer_by_id(scene):
    offer = scene["offer"]

    response = client_for(scene["bea"].user).post(by_id(offer, "accept"))

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "accepted"
    offer.refresh_from_db()
    booked = offer.appointment
    assert (booked.patient, booked.start, booked.source) == (
        scene["bea"],
        FREED_AT,
        Source.WAITLIST,
    )
    assert response.json()["appointment"] == booked.pk
    scene["entries"][scene["bea"]].refresh_from_db()
    assert scene["entries"][scene["bea"]].end_reason == EndReason.BOOKED


def test_taking_it_twice_is_offer_used_as_by_the_link(scene):
    bea = client_for(scene["bea"].user)
    bea.post(by_id(scene["offer"], "accept"))

    again = bea.post(by_id(scene["offer"], "accept"))

    assert again.status_code == 409 and again.json()["code"] == "offer_used"


def test_the_patient_passes_by_id_and_the_next_is_offered(scene):
    response = client_for(scene["bea"].user).post(by_id(scene["offer"], "decline"))

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "declined"
    following = WaitlistOffer.objects.get(status=OfferStatus.OFFERED)
    assert following.entry.patient == scene["cas"]
    again = client_for(scene["bea"].user).post(by_id(scene["offer"], "accept"))
    assert again.status_code == 409 and again.json()["code"] == "offer_declined"


def test_a_time_taken_at_the_desk_is_offer_taken_by_id(scene, myotherapy, myotherapist):
    book_appointment(
        patient=scene["dee"], service=myotherapy, practitioner=myotherapist, start=FREED_AT
    )

    response = client_for(scene["bea"].user).post(by_id(scene["offer"], "accept"))

    assert response.status_code == 409 and response.json()["code"] == "offer_taken"


def test_another_patients_offer_is_404_and_unchanged(scene):
    offer = scene["offer"]

    for action in ("accept", "decline"):
        response = client_for(scene["cas"].user).post(by_id(offer, action))
        assert response.status_code == 404

    offer.refresh_from_db()
    assert offer.status == OfferStatus.OFFERED


def test_staff_cannot_take_an_offer_by_id(scene, reception):
    response = client_for(reception).post(by_id(scene["offer"], "accept"))

    assert response.status_code == 403
    scene["offer"].refresh_from_db()
    assert scene["offer"].status == OfferStatus.OFFERED


def test_the_id_and_the_token_are_told_apart(scene, anonymous):
    """A UUID is a signed-in patient's id (401 without sign-in); a token is the link's."""
    assert anonymous.post(by_id(scene["offer"], "accept")).status_code == 401
    assert anonymous.get(link(scene["offer"])).status_code == 200
