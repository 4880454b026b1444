"""Courses in the demo clinic: a few patients booked a series of visits in one step, through
`appointments.courses` as reception would (checked visit by visit; a time the diary has
already filled is left out)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from appointments.courses import CourseRule, book_course, preview_course
from appointments.models import Appointment, Course, Status
from kernel.errors import DomainError
from patients.models import Patient
from practice.models import Location, Service

from . import data

# (service key, weekdays, every N weeks, visits): NMPT twice a week for three weeks, weekly
# myotherapy, maintenance fortnightly; all inside the demo's four weeks of bookings.
COURSES = [
    (data.NMPT_SESSION, (1, 3), 1, 6),
    (data.SMM_45, (2,), 1, 3),
    (data.MAINTENANCE, (4,), 2, 2),
]
# The first time of day at which someone is free for the first visit.
TIMES = [time(hour) for hour in (10, 11, 9, 14, 15, 16, 8, 17)]


def ensure_courses(
    patients: list[Patient],
    services: dict[str, Service],
    locations: dict[str, Location],
    *,
    now: datetime,
) -> int:
    """Book the demo's courses for the first assessed patients, once; how many were booked
    now (none when the demo has its courses already)."""
    if Course.objects.exists():
        return 0
    # One query, not one per patient.
    assessed_ids = set(
        Appointment.objects.filter(
            patient__in=patients, service__is_assessment=True, status=Status.COMPLETED
        ).values_list("patient_id", flat=True)
    )
    assessed = [patient for patient in patients if patient.pk in assessed_ids]
    first_date = (now + timedelta(days=2)).date()
    location = next(iter(locations.values()))
    booked = 0
    for patient, (key, weekdays, every_weeks, visits) in zip(assessed, COURSES, strict=False):
        service = services[key]
        for at in TIMES:
            rule = CourseRule(
                first_date=first_date,
                at=at,
                weekdays=weekdays,
                every_weeks=every_weeks,
                visits=visits,
            )
            preview = preview_course(
                service=service, location=location, rule=rule, patient=patient, now=now
            )
            if preview.practitioner is not None:
                break
        else:
            continue
        try:
            book_course(
                patient=patient,
                service=service,
                practitioner=preview.practitioner,
                location=location,
                rule=rule,
                free_only=True,
                now=now,
            )
        except DomainError:  # every visit filled already: this patient goes without
            continue
        booked += 1
    return booked
