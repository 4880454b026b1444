"""Load the demo clinic: its set-up (`demo.clinic_setup`), six months of past visits and
four weeks of future bookings (`demo.diary`), the messages sent about them
(`demo.messages`) and the clinical records of the visits (`demo.clinical`).

Whatever carries a rule goes through the apps' services, at the moment it would have
happened (`now=`): bookings, check-ins, completions, no-shows and cancellations with the
messages they schedule and withdraw, intakes, red-flag clearances, plans, notes and their
signatures, addenda and scores. So the demo holds what the clinic would hold and cannot
drift from its rules. The one bulk write, the plain sends of past messages, is explained in
`demo.messages`.

Idempotent: set-up rows are only created when missing, never overwritten; appointments are
booked only when none of the demo patients has any, clinical records written only when none
of them has any. Deterministic for a given date: all choices come from seeded
`random.Random`s.
"""

from __future__ import annotations

import random
import time as clock
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from appointments.models import (
    Appointment,
    ClassPlace,
    Course,
    GroupClass,
    PlaceStatus,
    Status,
)
from notifications.models import Notification
from patients.models import Patient
from practice.models import ExtraHours, Leave, Location, Practitioner, Room, Service, WorkingHours
from waitlist.models import WaitlistEntry

from . import data
from .classes import ensure_group_classes
from .clinic_setup import (
    ensure_leave_and_extra_hours,
    ensure_locations,
    ensure_patients,
    ensure_practitioners,
    ensure_services,
)
from .clinical import ClinicalSummary, clinical_summary, seed_clinical_records
from .courses import ensure_courses
from .diary import Diary
from .waitlist import seed_waitlist

DEFAULT_SEED = 20240601


@dataclass
class SeedSummary:
    """What the database holds after seeding (every row, not only the demo's), and what
    this run added."""

    locations: int = 0
    rooms: int = 0
    services: int = 0
    practitioners: int = 0
    rota_lines: int = 0
    leave: int = 0
    extra_hours: int = 0
    patients: int = 0
    appointments_by_status: dict[str, int] = field(default_factory=dict)
    created_appointments: int = 0
    skipped_visits: int = 0
    clinical: ClinicalSummary = field(default_factory=ClinicalSummary)
    created_clinical_records: bool = False
    messages_by_status: dict[str, int] = field(default_factory=dict)
    courses: int = 0
    course_visits: int = 0
    group_classes: int = 0
    class_places: int = 0
    waitlist_entries: int = 0
    created_waitlist_entries: int = 0
    # The moment the clinic was seeded at: its history is before it, its bookings after.
    at: datetime | None = None
    seconds: float = 0.0

    @property
    def appointments(self) -> int:
        return sum(self.appointments_by_status.values())

    def lines(self) -> list[str]:
        statuses = ", ".join(
            f"{count} {Status(status).label.lower()}"
            for status, count in sorted(self.appointments_by_status.items())
        )
        created = (
            f"created {self.created_appointments} appointments"
            if self.created_appointments
            else "appointments were already there, none created"
        )
        lines = [
            f"Demo clinic ready in {self.seconds:.1f} s ({created}).",
            f"  {self.locations} locations, {self.rooms} rooms, {self.services} services",
            f"  {self.practitioners} practitioners: {self.rota_lines} rota lines, "
            f"leave {self.leave}, extra hours {self.extra_hours}",
            f"  {self.patients} patients, {self.appointments} appointments ({statuses or 'none'})",
        ]
        if self.skipped_visits:
            lines.append(f"  {self.skipped_visits} planned visits found no free slot")
        clinical = self.clinical
        phases = ", ".join(
            f"{clinical.plans_by_phase.get(phase, 0)} {phase}"
            for phase in ("assess", "release", "strengthen", "maintain")
        )
        lines += [
            f"  clinical records{'' if self.created_clinical_records else ' (already there)'}: "
            f"{clinical.intakes} intakes ({clinical.open_red_flags} with open red flags), "
            f"active plans: {phases}",
            f"  {clinical.notes} notes ({clinical.signed_notes} signed, "
            f"{clinical.addenda} with addenda, {clinical.exercises} exercises logged), "
            f"{clinical.pain_scores} pain scores, {clinical.odi_scores} ODIs",
            f"  home programmes: {clinical.home_exercises} exercises prescribed, "
            f"{clinical.home_exercise_logs} logged by patients",
            f"  courses: {self.courses} booked in one step ({self.course_visits} visits)",
            f"  group classes: {self.group_classes} ({self.class_places} places booked)",
            f"  waitlist: {self.waitlist_entries} open entries"
            + ("" if self.created_waitlist_entries else " (already there)"),
            "  messages: "
            + (
                ", ".join(f"{n} {status}" for status, n in sorted(self.messages_by_status.items()))
                or "none"
            ),
        ]
        return lines


def seed_demo(*, seed: int = DEFAULT_SEED) -> SeedSummary:
    """Create whatever of the demo clinic is missing; return what the database now holds.

    Refused unless messages go to the outbox: the sender delivers some of the demo's past
    messages (`demo.messages`), and none of them should leave the machine."""
    if settings.NOTIFICATIONS_DELIVERY != "outbox":
        raise ImproperlyConfigured(
            "The demo clinic delivers its message history: run it with "
            "NOTIFICATIONS_DELIVERY=outbox (make run's default), not "
            f"{settings.NOTIFICATIONS_DELIVERY!r}."
        )
    began = clock.perf_counter()
    rng = random.Random(seed)
    now = timezone.now()
    today = timezone.localdate(now, ZoneInfo(data.MELBOURNE))
    with transaction.atomic():
        locations = ensure_locations()
        services = ensure_services()
        practitioners = ensure_practitioners(locations)
        ensure_leave_and_extra_hours(practitioners, locations, today)
        patients = ensure_patients(rng, today)
        created, skipped = 0, 0
        if not Appointment.objects.filter(patient__in=[p.pk for p in patients]).exists():
            diary = Diary(rng, services, practitioners, locations, now=now)
            created, skipped = diary.run(patients)
        created_records = seed_clinical_records(patients, seed=seed, now=now)
        ensure_courses(patients, services, locations, now=now)
        ensure_group_classes(patients, services, locations, practitioners, now=now)
        waiting = seed_waitlist(patients, services, rng=rng, now=now)
    summary = _summarise()
    summary.created_appointments = created
    summary.skipped_visits = skipped
    summary.created_clinical_records = created_records
    summary.created_waitlist_entries = waiting
    summary.at = now
    summary.seconds = clock.perf_counter() - began
    return summary


def _summarise() -> SeedSummary:
    statuses = Counter(
        dict(Appointment.objects.values_list("status").annotate(n=Count("pk")).order_by())
    )
    return SeedSummary(
        locations=Location.objects.count(),
        rooms=Room.objects.count(),
        services=Service.objects.count(),
        practitioners=Practitioner.objects.count(),
        rota_lines=WorkingHours.objects.count(),
        leave=Leave.objects.count(),
        extra_hours=ExtraHours.objects.count(),
        patients=Patient.objects.count(),
        appointments_by_status=dict(statuses),
        clinical=clinical_summary(),
        waitlist_entries=WaitlistEntry.objects.filter(ended_at__isnull=True).count(),
        messages_by_status=dict(
            Notification.objects.values_list("status").annotate(n=Count("pk")).order_by()
        ),
        courses=Course.objects.count(),
        course_visits=Appointment.objects.filter(course__isnull=False).count(),
        group_classes=GroupClass.objects.count(),
        class_places=ClassPlace.objects.filter(status=PlaceStatus.BOOKED).count(),
    )
