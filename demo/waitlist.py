"""The demo clinic's waitlist: some of its patients wait for an earlier myotherapy or
strength session than the diary gave them — any practitioner or their own, some only on
certain days or mornings, a few urgent (reception's call), a couple "sooner than" their own
booking. Made once, through `waitlist.services.join_waitlist` (by the clinic itself), so
the same rules hold as for a real entry; a patient the rules refuse is left out."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from django.db.models import Exists, OuterRef
from django.utils import timezone

from appointments.models import Appointment, Status
from kernel.errors import DomainError
from patients.models import Patient
from practice.models import Service
from waitlist.models import WaitlistEntry
from waitlist.services import Wish, join_waitlist

from . import data

# How many patients wait, of those who could.
WAITING = 18
URGENT = 3


def seed_waitlist(
    patients: list[Patient], services: dict[str, Service], *, rng: random.Random, now: datetime
) -> int:
    """Put some assessed patients on the waitlist; how many entries were made (none if the
    demo's waitlist is there already)."""
    if WaitlistEntry.objects.exists():
        return 0
    today = timezone.localdate(now)
    completed = Appointment.objects.filter(patient=OuterRef("pk"), status=Status.COMPLETED)
    reachable = [
        patient
        for patient in Patient.objects.filter(pk__in=[p.pk for p in patients], is_active=True)
        .annotate(assessed=Exists(completed))
        .filter(assessed=True)
        .order_by("pk")
        if (patient.consent_email and patient.email) or (patient.consent_sms and patient.mobile)
    ]
    chosen = rng.sample(reachable, min(WAITING, len(reachable)))
    wanted = [services[data.SMM_45], services[data.SMM_60], services[data.NMPT_SESSION]]
    made = 0
    for position, patient in enumerate(chosen):
        service = wanted[position % len(wanted)]
        booked = (
            Appointment.objects.filter(
                patient=patient, service=service, status=Status.BOOKED, start__gt=now
            )
            .order_by("-start")
            .first()
        )
        wish = Wish(
            latest_date=today + timedelta(days=rng.choice((14, 21, 28))),
            weekdays=sorted(rng.sample(range(5), 3)) if rng.random() < 0.3 else (),
            earliest_time=time(7) if rng.random() < 0.2 else None,
            latest_time=time(12) if rng.random() < 0.2 else None,
            sooner_than=booked if booked and rng.random() < 0.5 else None,
            urgent=position < URGENT,
            note="Flexible: call any time." if position % 5 == 0 else "",
        )
        try:
            join_waitlist(patient=patient, service=service, wish=wish, by=None, now=now)
        except DomainError:
            continue  # e.g. already waiting for that service
        made += 1
    return made
