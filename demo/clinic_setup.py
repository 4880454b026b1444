"""The demo clinic's set-up: its locations and rooms, services, practitioners with their
rotas, leave and extra hours, and patients.

Every row is found by a natural key (a name, an email, a rota line) and only created when
missing, never overwritten; leave and extra hours are added only to a practitioner who has
none. Patients are added through `patients.services.add_patient`, which records when they
gave their consents.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from accounts.models import User
from accounts.permissions import sync_role_group
from patients.models import Channel, Patient
from patients.services import add_patient
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


def ensure_locations() -> dict[str, Location]:
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


def ensure_practitioners(locations: dict[str, Location]) -> dict[str, Practitioner]:
    """Staff users in the Practitioner group, with no usable password: `make run` gives each
    a development one (`demo.logins`, development only)."""
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


def ensure_leave_and_extra_hours(
    practitioners: dict[str, Practitioner], locations: dict[str, Location], today: date
) -> None:
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


def ensure_patients(rng: random.Random, today: date) -> list[Patient]:
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
            patient = add_patient(
                Patient(
                    first_name=first_name,
                    last_name=last_name,
                    date_of_birth=today - timedelta(days=age_days),
                    email=email,
                    mobile=data.patient_mobile(index),
                    preferred_channel=Channel.SMS if prefers_sms else Channel.EMAIL,
                    consent_email=consent_email,
                    consent_sms=consent_sms,
                )
            )
        patients.append(patient)
    return patients
