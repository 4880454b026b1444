"""Group classes in the demo clinic: a weekly NMPT group series at Richmond (Mondays and
Wednesdays, coached by Luca Romano), scheduled through `appointments.classes` as reception
would, with a few assessed patients booked into every class of it that has room."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from appointments.classes import book_series_places, schedule_class_series
from appointments.courses import CourseRule
from appointments.models import Appointment, ClassSeries, GroupClass, Status
from kernel.errors import DomainError
from patients.models import Patient
from practice.models import Location, Practitioner, Service

from . import data

COACH = "luca.romano@clinic.example"
WEEKDAYS = (data.MON, data.WED)
CLASSES = 8  # four weeks
CAPACITY = 4
ATTENDEES = 3
# The first time of day at which the coach and the gym are free for some of the classes.
TIMES = [time(7), time(13), time(9)]


def ensure_group_classes(
    patients: list[Patient],
    services: dict[str, Service],
    locations: dict[str, Location],
    practitioners: dict[str, Practitioner],
    *,
    now: datetime,
) -> int:
    """Schedule the demo's class series and book its first attendees, once; how many
    classes were scheduled now (none when the demo has its classes already)."""
    if GroupClass.objects.exists():
        return 0
    series = _schedule(services, locations, practitioners, now=now)
    if series is None:
        return 0
    assessed_ids = set(
        Appointment.objects.filter(
            patient__in=patients, service__is_assessment=True, status=Status.COMPLETED
        ).values_list("patient_id", flat=True)
    )
    attendees = [patient for patient in patients if patient.pk in assessed_ids][-ATTENDEES:]
    for patient in attendees:
        try:
            book_series_places(series=series, patient=patient, free_only=True, now=now)
        except DomainError:  # busy at every class: goes without
            continue
    return series.group_classes.count()


def _schedule(
    services: dict[str, Service],
    locations: dict[str, Location],
    practitioners: dict[str, Practitioner],
    *,
    now: datetime,
) -> ClassSeries | None:
    for at in TIMES:
        try:
            return schedule_class_series(
                service=services[data.NMPT_GROUP],
                practitioner=practitioners[COACH],
                location=locations[data.RICHMOND],
                rule=CourseRule(
                    first_date=(now + timedelta(days=1)).date(),
                    at=at,
                    weekdays=WEEKDAYS,
                    visits=CLASSES,
                ),
                capacity=CAPACITY,
                free_only=True,
                now=now,
            ).series
        except DomainError:  # every class's time taken already: try later in the day
            continue
    return None
