"""Load the demo clinic: set-up, practitioners, patients, six months of appointments and the
clinical records of those visits (`clinical.py`) and the messages sent about them
(`demo.messages`).

Idempotent: every row is found by a natural key (a name, an email, a rota line) and only
created when missing, never overwritten; leave and extra hours are added only to a
practitioner who has none, appointments only when none of the demo patients has any,
clinical records only when none of them has any.
Deterministic for a given date: all choices come from one seeded `random.Random`.

Future appointments go through `book_appointment`, so they obey every booking rule. Past
ones cannot (it refuses the past): their times come from `free_slots` asked as if it were
just before that day, and the rows are written here, each in a free room place.
"""

from __future__ import annotations

import random
import time as clock
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone

from accounts.models import User
from accounts.permissions import sync_role_group
from appointments.availability import Slot, free_slots
from appointments.models import OCCUPYING_STATUSES, Appointment, Source, Status
from appointments.services import book_appointment, cancel_appointment
from demo.messages import seed_message_history
from notifications.models import Notification
from patients.models import Channel, Patient
from practice.models import (
    Break,
    ExtraHours,
    Leave,
    Location,
    Practitioner,
    Room,
    Service,
    WorkingHours,
)

from . import data
from .clinical import ClinicalSummary, clinical_summary, seed_clinical_records

DEFAULT_SEED = 20240601
HISTORY_DAYS = 182
FUTURE_DAYS = 28
# How far past a target date we look for a free slot before trying someone else.
SEARCH_DAYS = 7

_LATE_CANCEL_REASONS = (
    "Unwell, called that morning",
    "Child sick, could not get away",
    "Stuck at work",
    "Car broke down",
)
_FUTURE_CANCEL_REASON = "Travelling for work that week; will rebook on return"


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
            "  messages: "
            + (
                ", ".join(f"{n} {status}" for status, n in sorted(self.messages_by_status.items()))
                or "none"
            ),
        ]
        return lines


def seed_demo(*, seed: int = DEFAULT_SEED) -> SeedSummary:
    """Create whatever of the demo clinic is missing; return what the database now holds."""
    began = clock.perf_counter()
    rng = random.Random(seed)
    with transaction.atomic():
        locations = _ensure_locations()
        services = ensure_services()
        practitioners = _ensure_practitioners(locations)
        _ensure_leave_and_extra_hours(practitioners, locations)
        patients = _ensure_patients(rng)
        created, skipped = 0, 0
        if not Appointment.objects.filter(patient__in=[p.pk for p in patients]).exists():
            created, skipped = _Scheduler(rng, services, practitioners, locations).run(patients)
        created_records = seed_clinical_records(patients, seed=seed)
        seed_message_history([p.pk for p in patients])
    summary = _summarise()
    summary.created_appointments = created
    summary.skipped_visits = skipped
    summary.created_clinical_records = created_records
    summary.seconds = clock.perf_counter() - began
    return summary


# Set-up ------------------------------------------------------------------------------------


def _ensure_locations() -> dict[str, Location]:
    locations = {}
    for spec in data.LOCATIONS:
        location, _ = Location.objects.get_or_create(
            name=spec.name,
            defaults={"address": spec.address, "phone": spec.phone, "time_zone": spec.time_zone},
        )
        for room in spec.rooms:
            Room.objects.get_or_create(
                location=location,
                name=room.name,
                defaults={"kind": room.kind, "capacity": room.capacity},
            )
        locations[spec.name] = location
    return locations


def ensure_services() -> dict[str, Service]:
    """The clinic's services by key (see `data.SERVICES`), created if missing."""
    services = {}
    for spec in data.SERVICES:
        service, _ = Service.objects.get_or_create(
            name=spec.name,
            defaults={
                "description": spec.description,
                "duration_minutes": spec.duration_minutes,
                "buffer_after_minutes": spec.buffer_after_minutes,
                "price": spec.price,
                "room_kind": spec.room_kind,
                "disciplines": list(spec.disciplines),
                "bookable_online": spec.bookable_online,
                "is_assessment": spec.is_assessment,
            },
        )
        services[spec.key] = service
    return services


def _ensure_practitioners(locations: dict[str, Location]) -> dict[str, Practitioner]:
    """Staff users in the Practitioner group (no usable password: give one with
    `changepassword` to log in as one of them)."""
    group = sync_role_group("Practitioner")
    practitioners = {}
    for spec in data.PRACTITIONERS:
        user = User.objects.filter(email__iexact=spec.email).first()
        if user is None:
            user = User(email=spec.email, first_name=spec.first_name, last_name=spec.last_name)
            user.is_staff = True
            user.set_unusable_password()
            user.save()
        user.groups.add(group)
        practitioner, _ = Practitioner.objects.get_or_create(
            user=user,
            defaults={"title": spec.title, "disciplines": list(spec.disciplines), "bio": spec.bio},
        )
        for shift in spec.rota:
            for weekday in shift.weekdays:
                line, _ = WorkingHours.objects.get_or_create(
                    practitioner=practitioner,
                    location=locations[shift.location],
                    weekday=weekday,
                    start_time=shift.start,
                    end_time=shift.end,
                    valid_from=None,
                    valid_until=None,
                )
                for start, end in shift.breaks:
                    Break.objects.get_or_create(working_hours=line, start_time=start, end_time=end)
        practitioners[spec.email] = practitioner
    return practitioners


def _ensure_leave_and_extra_hours(
    practitioners: dict[str, Practitioner], locations: dict[str, Location]
) -> None:
    today = _today()
    away = practitioners[data.LEAVE_PRACTITIONER]
    if not away.leave.exists():
        first = today + timedelta(days=data.LEAVE_STARTS_IN_DAYS)
        zone = ZoneInfo(data.MELBOURNE)
        Leave.objects.create(
            practitioner=away,
            start=datetime.combine(first, time(), tzinfo=zone),
            end=datetime.combine(first + timedelta(days=data.LEAVE_DAYS), time(), tzinfo=zone),
            reason=data.LEAVE_REASON,
        )
    covering = practitioners[data.EXTRA_HOURS_PRACTITIONER]
    if not covering.extra_hours.exists():
        # The second Saturday from now: a one-off Saturday clinic.
        saturday = today + timedelta(days=(5 - today.weekday()) % 7 + 7)
        start, end = data.EXTRA_HOURS
        ExtraHours.objects.create(
            practitioner=covering,
            location=locations[data.EXTRA_HOURS_LOCATION],
            date=saturday,
            start_time=start,
            end_time=end,
        )


def _ensure_patients(rng: random.Random) -> list[Patient]:
    today = _today()
    patients = []
    for index, (first_name, last_name) in enumerate(data.PATIENT_NAMES):
        # Draw every value whether or not the patient exists, so the sequence stays the same.
        age_days = rng.randint(22 * 365, 74 * 365)
        consent_email = rng.random() < 0.75
        consent_sms = rng.random() < 0.6
        prefers_sms = consent_sms and rng.random() < 0.5
        email = data.patient_email(first_name, last_name)
        patient = Patient.objects.filter(email__iexact=email).first()
        if patient is None:
            patient = Patient.objects.create(
                first_name=first_name,
                last_name=last_name,
                date_of_birth=today - timedelta(days=age_days),
                email=email,
                mobile=data.patient_mobile(index),
                preferred_channel=Channel.SMS if prefers_sms else Channel.EMAIL,
                consent_email=consent_email,
                consent_sms=consent_sms,
                consents_updated_at=timezone.now() if consent_email or consent_sms else None,
            )
        patients.append(patient)
    return patients


# Appointments ------------------------------------------------------------------------------


@dataclass
class _Profile:
    """How one patient moves through the pathway."""

    patient: Patient
    first_day: date
    home: Location
    myotherapist: Practitioner
    coach: Practitioner
    preferred_minute: int
    long_sessions: bool
    sciatica: bool


class _Scheduler:
    def __init__(
        self,
        rng: random.Random,
        services: dict[str, Service],
        practitioners: dict[str, Practitioner],
        locations: dict[str, Location],
    ):
        self.rng = rng
        self.services = services
        self.locations = {location.pk: location for location in locations.values()}
        self.practitioners = {p.pk: p for p in practitioners.values()}
        self.zone = ZoneInfo(data.MELBOURNE)
        self.now = timezone.now()
        self.today = _today()
        self.yesterday = self.today - timedelta(days=1)
        self.last_day = self.today + timedelta(days=FUTURE_DAYS)
        self.specialist = next(
            p for p in self.practitioners.values() if data.SCIATICA in p.disciplines
        )
        # How many days a week each practitioner works at each location.
        self.days_at = Counter(
            WorkingHours.objects.filter(practitioner__in=self.practitioners).values_list(
                "practitioner_id", "location_id"
            )
        )
        self.myotherapists: dict[int, list[Practitioner]] = {}
        self.coaches: dict[int, list[Practitioner]] = {}
        for location_id in self.locations:
            for practitioner in self.practitioners.values():
                if not self.days_at[practitioner.pk, location_id]:
                    continue
                if data.NMPT in practitioner.disciplines:
                    self.coaches.setdefault(location_id, []).append(practitioner)
                if data.MYO in practitioner.disciplines and practitioner != self.specialist:
                    self.myotherapists.setdefault(location_id, []).append(practitioner)
        self.rooms: dict[tuple[int, str], list[Room]] = {}
        for room in Room.objects.filter(is_active=True, location__in=self.locations):
            self.rooms.setdefault((room.location_id, room.kind), []).append(room)
        for rooms in self.rooms.values():
            rooms.sort(key=lambda room: room.name)
        self.past_ids: list[int] = []
        self.created = 0
        self.skipped = 0

    def run(self, patients: list[Patient]) -> tuple[int, int]:
        profiles = [self._profile(patient) for patient in patients]
        for profile in profiles[-data.NEW_PATIENTS :]:
            profile.first_day = self.today - timedelta(
                days=self.rng.randint(*data.NEW_PATIENT_DAYS_AGO)
            )
        for profile in profiles:
            self._schedule(profile)
        # Past appointments were booked about a week ahead and last touched when they ended.
        Appointment.objects.filter(pk__in=self.past_ids).update(
            created_at=F("start") - timedelta(days=6), updated_at=F("end")
        )
        self._cancel_a_few_future_bookings(patients)
        return self.created, self.skipped

    def _profile(self, patient: Patient) -> _Profile:
        rng = self.rng
        home = rng.choice(list(self.locations.values()))
        return _Profile(
            patient=patient,
            first_day=self.today - timedelta(days=rng.randint(14, HISTORY_DAYS)),
            home=home,
            myotherapist=self._someone(self.myotherapists[home.pk], home),
            coach=self._someone(self.coaches[home.pk], home),
            preferred_minute=rng.choice((7 * 60 + 30, 9 * 60, 11 * 60, 13 * 60, 16 * 60, 17 * 60)),
            long_sessions=rng.random() < 0.35,
            sciatica=rng.random() < 0.3,
        )

    def _someone(self, practitioners: list[Practitioner], location: Location) -> Practitioner:
        """Those who are there more days a week see more of the location's patients."""
        weights = [self.days_at[p.pk, location.pk] for p in practitioners]
        return self.rng.choices(practitioners, weights)[0]

    def _pathway(self, profile: _Profile) -> Iterator[tuple[str, int]]:
        """(service key, days after the previous visit): assess, release, strengthen, maintain."""
        rng = self.rng
        yield data.ASSESSMENT, 0
        if profile.sciatica:
            yield data.SCIATICA_CONSULT, rng.randint(2, 6)
        release = data.SMM_60 if profile.long_sessions else data.SMM_45
        for _ in range(rng.randint(3, 6)):
            yield release, rng.randint(5, 9)
        if profile.sciatica:
            yield data.SCIATICA_CONSULT, rng.randint(3, 7)  # review before loading the spine
        for session in range(rng.randint(4, 10)):
            yield data.NMPT_SESSION, rng.randint(3, 4)
            if session % 3 == 2:
                yield release, rng.randint(2, 4)
        while True:
            yield data.MAINTENANCE, rng.randint(21, 42)

    def _schedule(self, profile: _Profile) -> None:
        """Walk the patient's pathway from their first day until the booking horizon."""
        previous: date | None = None
        for key, gap in self._pathway(profile):
            target = profile.first_day if previous is None else previous + timedelta(days=gap)
            last_search_day = target + timedelta(days=SEARCH_DAYS - 1)
            beyond_horizon = last_search_day > self.last_day
            if beyond_horizon:
                if previous is not None and previous >= self.today:
                    return  # the next visit is booked; later ones are not yet
                # Everyone has a next visit booked: pull it into the coming fortnight.
                target = self.today + timedelta(days=self.rng.randint(1, FUTURE_DAYS // 2))
            day = self._visit(profile, self.services[key], target, first=previous is None)
            if day is None:
                self.skipped += 1
            if day is None and previous is None:
                return  # no assessment, no pathway
            previous = day or previous
            if beyond_horizon:
                return

    def _visit(
        self, profile: _Profile, service: Service, target: date, *, first: bool
    ) -> date | None:
        """Book one visit on the first day from `target` that has a slot; return that day."""
        if target <= self.yesterday:
            last = min(target + timedelta(days=SEARCH_DAYS - 1), self.yesterday)
            # Ask as if it were the start of `target`, which is when reception would have looked.
            then = datetime.combine(target, time(), tzinfo=self.zone) - timedelta(seconds=1)
            slot = self._find(profile, service, target, last, now=then)
            if slot is not None:
                self._write_past(profile, service, slot, first=first)
                return self._local_day(slot)
            target = self.today
        last = min(target + timedelta(days=SEARCH_DAYS - 1), self.last_day)
        slot = self._find(profile, service, target, last, now=self.now)
        if slot is None:
            return None
        book_appointment(
            patient=profile.patient,
            service=service,
            practitioner=self.practitioners[slot.practitioner_id],
            start=slot.start,
            location=self.locations[slot.location_id],
            source=Source.RECEPTION,
        )
        self.created += 1
        return self._local_day(slot)

    def _find(
        self, profile: _Profile, service: Service, first: date, last: date, *, now: datetime
    ) -> Slot | None:
        """The slot nearest the patient's usual time on the first day that has one: with
        their own practitioner at their home location if possible, then widening."""
        own = self._own_practitioner(profile, service)
        for practitioner, location in (
            (own, profile.home),
            (own, None),
            (None, profile.home),
            (None, None),
        ):
            slots = free_slots(
                service, first, last, practitioner=practitioner, location=location, now=now
            )
            if slots:
                return self._pick(profile, slots)
        return None

    def _own_practitioner(self, profile: _Profile, service: Service) -> Practitioner:
        """Sciatica patients are assessed by the specialist; the rest by their myotherapist."""
        if service.disciplines == [data.SCIATICA] or (service.is_assessment and profile.sciatica):
            return self.specialist
        if data.NMPT in service.disciplines:
            return profile.coach
        return profile.myotherapist

    def _pick(self, profile: _Profile, slots: list[Slot]) -> Slot:
        first_day = self._local_day(slots[0])
        preferred = profile.preferred_minute + self.rng.uniform(-45, 45)

        def distance(slot: Slot) -> float:
            local = slot.start.astimezone(self.zone)
            return abs(local.hour * 60 + local.minute - preferred)

        return min((s for s in slots if self._local_day(s) == first_day), key=distance)

    def _write_past(self, profile: _Profile, service: Service, slot: Slot, *, first: bool) -> None:
        rng = self.rng
        blocked_until = slot.end + service.buffer_after
        roll = 1.0 if first else rng.random()  # the first visit, the assessment, took place
        status = Status.COMPLETED
        if roll < 0.04:
            status = Status.NO_SHOW
        elif roll < 0.08:
            status = Status.LATE_CANCELLED
        online = service.bookable_online and rng.random() < 0.4
        appointment = Appointment(
            patient=profile.patient,
            practitioner=self.practitioners[slot.practitioner_id],
            service=service,
            location=self.locations[slot.location_id],
            start=slot.start,
            end=slot.end,
            blocked_until=blocked_until,
            price=service.price,
            status=status,
            source=Source.ONLINE if online else Source.RECEPTION,
        )
        appointment.room, appointment.room_place = self._free_place(
            slot.location_id, service.room_kind, slot.start, blocked_until
        )
        if status == Status.COMPLETED:
            appointment.checked_in_at = slot.start - timedelta(minutes=rng.randint(2, 12))
            appointment.completed_at = slot.end
        elif status == Status.LATE_CANCELLED:
            appointment.cancelled_at = slot.start - timedelta(hours=rng.randint(2, 20))
            appointment.cancellation_reason = rng.choice(_LATE_CANCEL_REASONS)
        appointment.save()
        self.past_ids.append(appointment.pk)
        self.created += 1

    def _free_place(
        self, location_id: int, kind: str, start: datetime, blocked_until: datetime
    ) -> tuple[Room, int]:
        """The first room place free for the whole of [start, blocked_until)."""
        rooms = self.rooms[location_id, kind]
        taken = set(
            Appointment.objects.filter(
                room__in=rooms,
                status__in=OCCUPYING_STATUSES,
                start__lt=blocked_until,
                blocked_until__gt=start,
            ).values_list("room_id", "room_place")
        )
        for room in rooms:
            for place in range(1, room.capacity + 1):
                if (room.pk, place) not in taken:
                    return room, place
        raise RuntimeError(f"free_slots offered {start:%Y-%m-%d %H:%M} but no room place is free")

    def _cancel_a_few_future_bookings(self, patients: list[Patient]) -> None:
        """Two patients have called to cancel a booking more than a week away."""
        cancelled = 0
        for patient in patients:
            booked = list(
                Appointment.objects.filter(patient=patient, status=Status.BOOKED).order_by("start")
            )
            if len(booked) >= 2 and booked[-1].start > self.now + timedelta(days=7):
                cancel_appointment(appointment=booked[-1], by=None, reason=_FUTURE_CANCEL_REASON)
                cancelled += 1
                if cancelled == 2:
                    return

    def _local_day(self, slot: Slot) -> date:
        return slot.start.astimezone(self.zone).date()


def _today() -> date:
    return timezone.localdate(timezone.now(), ZoneInfo(data.MELBOURNE))


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
        messages_by_status=dict(
            Notification.objects.values_list("status").annotate(n=Count("pk")).order_by()
        ),
    )
