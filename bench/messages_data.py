"""The messages benchmark's data, in a database of its own: patients consenting to email,
booked appointments in the weeks ahead for the reminders to be about, and the message
tables emptied between runs. Import after `django.setup()`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bench.bookings import BENCH_EMAIL_DOMAIN

PATIENTS = 1000
PRACTITIONERS = 20
APPOINTMENTS = 10_000  # booked, in the weeks ahead: what the reminders are for
BENCH_LOCATION = "Bench messages"
CLAIM_LIMIT = 200  # what one dispatch_due claims: NOTIFICATIONS_CLAIM_BATCH by default


def bench_patients() -> list[int]:
    """PATIENTS patients consenting to email, made once."""
    from patients.models import Patient

    existing = Patient.objects.filter(email__endswith="@" + BENCH_EMAIL_DOMAIN)
    if existing.count() < PATIENTS:
        Patient.objects.bulk_create(
            Patient(
                first_name=f"Bench{n}",
                last_name="Messages",
                date_of_birth="1980-01-01",
                email=f"bench{n}@{BENCH_EMAIL_DOMAIN}",
                consent_email=True,
            )
            for n in range(existing.count(), PATIENTS)
        )
    return list(existing.order_by("pk").values_list("pk", flat=True))


def empty_message_tables() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE notifications_outboxmessage, notifications_notification, notifications_reply"
            " RESTART IDENTITY"
        )


def no_quiet_hours() -> None:
    from datetime import time as clock

    from notifications.models import MessagingSettings

    rules = MessagingSettings.current()
    rules.quiet_hours_start = rules.quiet_hours_end = clock(0)  # an empty span: never quiet
    rules.save()


def bench_appointments(patient_ids: list[int]) -> list[tuple[int, int]]:
    """APPOINTMENTS booked appointments in the coming weeks, made once: 20 practitioners,
    each in a room of their own, sessions back to back, patients taking turns. Returns
    (appointment, patient) pairs."""
    from decimal import Decimal

    from accounts.models import User
    from appointments.models import Appointment, Source, Status
    from practice.models import Discipline, Location, Practitioner, Room, RoomKind, Service

    existing = Appointment.objects.filter(location__name=BENCH_LOCATION, status=Status.BOOKED)
    if existing.count() < APPOINTMENTS:
        location, _ = Location.objects.get_or_create(
            name=BENCH_LOCATION, defaults={"time_zone": "Australia/Melbourne"}
        )
        service, _ = Service.objects.get_or_create(
            name="Bench myotherapy",
            defaults={
                "duration_minutes": 30,
                "price": Decimal("90.00"),
                "room_kind": RoomKind.TREATMENT,
                "disciplines": [Discipline.MYOTHERAPY],
            },
        )
        staff = []
        for n in range(PRACTITIONERS):
            user, _ = User.objects.get_or_create(
                email=f"practitioner{n}@{BENCH_EMAIL_DOMAIN}",
                defaults={"first_name": f"Bench{n}", "last_name": "Practitioner"},
            )
            practitioner, _ = Practitioner.objects.get_or_create(
                user=user, defaults={"disciplines": [Discipline.MYOTHERAPY]}
            )
            room, _ = Room.objects.get_or_create(
                location=location, name=f"Bench room {n}", defaults={"capacity": 1}
            )
            staff.append((practitioner, room))
        existing.delete()
        first = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=7)
        rows = []
        for n in range(APPOINTMENTS):
            slot, seat = divmod(n, PRACTITIONERS)  # seat-th practitioner's slot-th session
            practitioner, room = staff[seat]
            start = first + timedelta(minutes=30 * slot)
            rows.append(
                Appointment(
                    patient_id=patient_ids[n % len(patient_ids)],
                    practitioner=practitioner,
                    service=service,
                    location=location,
                    room=room,
                    start=start,
                    end=start + timedelta(minutes=30),
                    blocked_until=start + timedelta(minutes=30),
                    price=service.price,
                    status=Status.BOOKED,
                    source=Source.ONLINE,
                )
            )
        Appointment.objects.bulk_create(rows, batch_size=2000)
    return list(existing.order_by("pk").values_list("pk", "patient_id"))


def due_reminders(appointments: list[tuple[int, int]], count: int, tag: str) -> None:
    """`count` email reminders, due a minute ago, one per appointment."""
    from django.utils import timezone

    from notifications.models import Kind, MessageTemplate, Notification
    from patients.models import Channel

    assert MessageTemplate.objects.filter(kind=Kind.REMINDER, channel=Channel.EMAIL).exists()
    due = timezone.now() - timedelta(minutes=1)
    Notification.objects.bulk_create(
        (
            Notification(
                kind=Kind.REMINDER,
                channel=Channel.EMAIL,
                appointment_id=appointment_id,
                patient_id=patient_id,
                reason_key=f"bench:{tag}:{n}",
                due_at=due,
            )
            for n, (appointment_id, patient_id) in enumerate(appointments[:count])
        ),
        batch_size=2000,
    )
