"""The people of the HTTP benchmarks and the bookings they make: assessed patients with
logins of their own (<patient id>@bench.example), their tokens, bookings planned so that
none collides with another, and the deletion of whatever those logins booked.

Import after `django.setup()`.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

BENCH_EMAIL_DOMAIN = "bench.example"


@dataclass(frozen=True)
class Booking:
    patient_id: int
    token: str
    body: dict


def delete_bench_bookings() -> int:
    """Delete the appointments that the benchmark's logins booked, with their messages."""
    from appointments.models import Appointment
    from notifications.models import Notification, OutboxMessage

    booked = Appointment.objects.filter(created_by__email__endswith="@" + BENCH_EMAIL_DOMAIN)
    OutboxMessage.objects.filter(notification__appointment__in=booked).delete()
    Notification.objects.filter(appointment__in=booked).delete()
    deleted, _ = booked.delete()
    return deleted


def assessed_patients_with_logins(count: int) -> list:
    """`count` active patients who had a completed session and have nothing booked, each
    with a login of its own (created on first use as <patient id>@bench.example, no usable
    password, its email address confirmed), consenting to email only: each booking then
    writes what the pgbench script writes (the appointment, an email confirmation and two
    reminders)."""
    from django.db import transaction
    from django.db.models import Exists, OuterRef, Q
    from django.utils import timezone

    from accounts.models import User
    from appointments.models import OCCUPYING_STATUSES, Appointment, Status
    from patients.models import Patient

    completed = Appointment.objects.filter(patient=OuterRef("pk"), status=Status.COMPLETED)
    booked = Appointment.objects.filter(
        patient=OuterRef("pk"), status__in=OCCUPYING_STATUSES, end__gt=timezone.now()
    )
    patients = list(
        Patient.objects.filter(Exists(completed), ~Exists(booked), is_active=True)
        .filter(Q(user__isnull=True) | Q(user__email__endswith="@" + BENCH_EMAIL_DOMAIN))
        .order_by("pk")[:count]
    )
    if len(patients) < count:
        raise SystemExit(f"Only {len(patients)} assessed patients to sign in as; need {count}.")
    missing = [p for p in patients if p.user_id is None]
    with transaction.atomic():
        users = []
        for patient in missing:
            user = User(
                email=f"patient-{patient.pk}@{BENCH_EMAIL_DOMAIN}",
                first_name=patient.first_name,
                last_name=patient.last_name,
            )
            user.set_unusable_password()
            users.append(user)
        User.objects.bulk_create(users)
        for patient, user in zip(missing, users, strict=True):
            patient.user = user
        Patient.objects.bulk_update(missing, ["user"])
        Patient.objects.filter(pk__in=[p.pk for p in patients]).update(
            consent_email=True, consent_sms=False
        )
        # A patient books online only with a confirmed email address (`BooksWithVerifiedEmail`).
        User.objects.filter(patient__in=patients, email_verified_at__isnull=True).update(
            email_verified_at=timezone.now()
        )
    return list(Patient.objects.filter(pk__in=[p.pk for p in patients]).select_related("user"))


def token_for(user) -> str:
    from rest_framework_simplejwt.tokens import AccessToken

    return str(AccessToken.for_user(user))


def plan_bookings(service, patients: list, count: int, seed: int = 1729) -> list[Booking]:
    """`count` online bookings that should all succeed: distinct free slots (from
    `free_slots`, as patients see them) that do not collide with one another on a
    practitioner, a room place or a patient, each for a distinct one of `patients`. The
    slots start after the cancellation window, so the patients may cancel them."""
    from django.utils import timezone

    from appointments.availability import MAX_APPOINTMENT_SPAN, free_slots
    from appointments.models import OCCUPYING_STATUSES, Appointment
    from practice.models import BookingRules, Location, Room

    today = timezone.localdate()
    rules = BookingRules.current()
    cancellable = timezone.now() + timedelta(hours=rules.cancellation_window_hours + 24)
    slots = [
        slot
        for slot in free_slots(
            service, today, today + timedelta(days=rules.online_horizon_days), online=True
        )
        if slot.start > cancellable
    ]
    random.Random(seed).shuffle(slots)  # spread the bookings over the diary
    if not slots:
        raise SystemExit("No free slots to book: reseed with --reseed.")
    span = (min(s.start for s in slots), max(s.end for s in slots) + service.buffer_after)
    zones = {location.pk: location.zone for location in Location.objects.all()}

    # Room places of the service's kind, with what already occupies them.
    places_by_location: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for room_id, location_id, capacity in Room.objects.filter(
        kind=service.room_kind, is_active=True
    ).values_list("pk", "location_id", "capacity"):
        places_by_location[location_id] += [(room_id, place) for place in range(1, capacity + 1)]
    busy: dict[object, list[tuple[datetime, datetime]]] = defaultdict(list)
    for room_id, place, start, blocked_until in Appointment.objects.filter(
        status__in=OCCUPYING_STATUSES,
        start__gt=span[0] - MAX_APPOINTMENT_SPAN,
        start__lt=span[1],
        blocked_until__gt=span[0],
    ).values_list("room_id", "room_place", "start", "blocked_until"):
        busy[room_id, place].append((start, blocked_until))

    for patient_id, start, end in Appointment.objects.filter(
        patient__in=patients, status__in=OCCUPYING_STATUSES, end__gt=span[0]
    ).values_list("patient_id", "start", "end"):
        busy["patient", patient_id].append((start, end))

    def free(key, start, end) -> bool:
        return all(end <= s or e <= start for s, e in busy[key])

    bookings: list[Booking] = []
    unused = list(patients)
    for slot in slots:
        if len(bookings) == count:
            break
        blocked_until = slot.end + service.buffer_after
        if not free(("practitioner", slot.practitioner_id), slot.start, blocked_until):
            continue
        place = next(
            (p for p in places_by_location[slot.location_id] if free(p, slot.start, blocked_until)),
            None,
        )
        patient = next((p for p in unused if free(("patient", p.pk), slot.start, slot.end)), None)
        if place is None or patient is None:
            continue
        busy["practitioner", slot.practitioner_id].append((slot.start, blocked_until))
        busy[place].append((slot.start, blocked_until))
        unused.remove(patient)
        start = slot.start.astimezone(zones[slot.location_id]).isoformat()
        bookings.append(
            Booking(
                patient_id=patient.pk,
                token=token_for(patient.user),
                body={
                    "service": service.pk,
                    "practitioner": slot.practitioner_id,
                    "start": start,
                    "location": slot.location_id,
                },
            )
        )
    if len(bookings) < count:
        print(f"Only {len(bookings)} non-colliding free slots for {count} bookings.")
    return bookings
