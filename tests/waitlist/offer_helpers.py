"""The scene of the offers' tests: on the frozen Monday 08:00, a patient booked for
myotherapy with Mia tomorrow at 10:00 cancels; assessed patients wait for myotherapy."""

import itertools
from datetime import timedelta

from appointments.services import book_appointment, cancel_appointment
from notifications.models import Kind, Notification
from tests.factories import AppointmentFactory, PatientFactory
from tests.fixtures.clinic import TODAY, at
from waitlist.models import WaitlistOffer
from waitlist.offers import token_of
from waitlist.services import Wish, join_waitlist

TOMORROW = TODAY + timedelta(days=1)
FREED_AT = at(TOMORROW, 10)
IN_A_MONTH = TODAY + timedelta(days=30)


def waiting_patient(name, *, location, room, practitioner, assessment, email=True, sms=False):
    """An assessed patient (no longer new) who agreed to email (and SMS, if asked)."""
    patient = PatientFactory(
        first_name=name, last_name="Waiting", consent_email=email, consent_sms=sms
    )
    # A completed assessment some days ago, each patient on a day of their own.
    AppointmentFactory(
        patient=patient,
        practitioner=practitioner,
        service=assessment,
        location=location,
        room=room,
        start=at(TODAY - timedelta(days=next(_DAYS_AGO)), 11),
    )
    return patient


_DAYS_AGO = itertools.count(2)


def wait_for(patient, service, by, **wish):
    return join_waitlist(
        patient=patient, service=service, by=by, wish=Wish(latest_date=IN_A_MONTH, **wish)
    )


def book_then_cancel(patient, service, practitioner, start=FREED_AT):
    """A booking at `start`, then its cancellation (by the desk): the time it frees
    is what the waitlist offers."""
    appointment = book_appointment(
        patient=patient, service=service, practitioner=practitioner, start=start
    )
    return cancel_appointment(appointment=appointment, by=None, reason="Cannot come.")


def offer_messages(offer: WaitlistOffer):
    return Notification.objects.filter(
        kind=Kind.WAITLIST_OFFER, reason_key__startswith=f"waitlist_offer:{offer.pk}:"
    )


def link(offer: WaitlistOffer, action: str = "") -> str:
    path = f"/api/v1/waitlist/offers/{token_of(offer)}/"
    return f"{path}{action}/" if action else path
