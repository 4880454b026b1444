"""A cohort for the clinic outcomes report (`treatments.outcomes_report`), small enough to
count by hand: eleven patients who started care from 1 September to 31 December 2026 with
three practitioners, their ODI and pain scores, and four who did not start in that period.
The expected figures are in `tests/treatments/test_outcomes_report.py`, worked out there
from the table below.

Each patient has weekly completed sessions from their first day, at an hour of their own (so
that no two share a practitioner's time), and scores on days counted from that first day.
ODI values are even (the ten answers' total doubled).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from appointments.models import Status
from tests.factories import AppointmentFactory, PatientFactory
from tests.fixtures.clinic import at
from treatments.services import record_odi, record_pain

PERIOD = (date(2026, 9, 1), date(2026, 12, 31))


@dataclass(frozen=True)
class Course:
    name: str
    practitioner: str  # "mia", "max" or "cal"
    first_day: date
    sessions: int
    odi: list[tuple[int, int]] = field(default_factory=list)  # (day, ODI %)
    pain: list[tuple[int, int]] = field(default_factory=list)  # (day, 0-10)


COURSES = [
    # ODI: 36 at 4 weeks is 4 points, 10 % (no); 24 at 8 weeks is 16 points. Pain: 2 points
    # at the third session.
    Course(
        "P1", "mia", date(2026, 9, 1), 8, [(0, 40), (28, 36), (56, 24)], [(0, 6), (7, 5), (14, 4)]
    ),
    Course("P2", "mia", date(2026, 9, 2), 6, [(0, 50), (28, 30)], [(0, 7), (7, 6), (35, 6)]),
    # ODI: the baseline only. Pain: 25 % at 1 week (no), 2 points at day 50.
    Course("P3", "mia", date(2026, 9, 3), 4, [(0, 30)], [(0, 4), (7, 3), (50, 2)]),
    # No ODI; pain again only after 12 weeks: not measured.
    Course("P4", "mia", date(2026, 9, 4), 3, [], [(0, 8), (100, 5)]),
    # 30 % exactly, in both (ODI 6 of 20 points, pain 1 of 3).
    Course("P5", "mia", date(2026, 9, 7), 3, [(0, 20), (14, 14)], [(0, 3), (14, 2)]),
    Course("P6", "max", date(2026, 9, 8), 10, [(0, 60), (35, 56), (70, 46)], [(0, 5)]),
    # ODI improved on the last day of 6 weeks.
    Course("P7", "max", date(2026, 9, 9), 7, [(0, 44), (42, 30)], [(0, 6), (42, 6)]),
    # ODI worse; pain improved on the last day of 12 weeks.
    Course("P8", "max", date(2026, 9, 10), 3, [(0, 30), (28, 40)], [(0, 5), (84, 2)]),
    Course("P9", "cal", date(2026, 10, 5), 4, [(0, 40), (28, 20)], [(0, 6), (28, 2)]),
    Course("P10", "cal", date(2026, 10, 6), 2, [(0, 40)], []),
    # Started late: 12 weeks after 28 December is the frozen today, not over yet.
    Course("P11", "mia", date(2026, 12, 28), 2, [(0, 50), (35, 46)], [(0, 5), (7, 2)]),
]


def odi_answers(percent: int) -> list[int]:
    """Ten answers whose ODI is `percent` (even)."""
    quotient, remainder = divmod(percent // 2, 10)
    return [quotient + 1] * remainder + [quotient] * (10 - remainder)


def build_cohort(practitioners: dict, service, location, *, courses=COURSES) -> dict:
    """The courses' patients, sessions and scores; returns the patients by name."""
    patients = {}
    for hour, course in enumerate(courses, start=7):
        patient = PatientFactory(first_name=course.name, last_name="Cohort")
        patients[course.name] = patient
        practitioner = practitioners[course.practitioner]
        for week in range(course.sessions):
            AppointmentFactory(
                patient=patient,
                practitioner=practitioner,
                service=service,
                location=location,
                start=at(course.first_day + timedelta(weeks=week), hour % 24),
            )
        for day, value in course.odi:
            record_odi(
                patient=patient,
                answers=odi_answers(value),
                by=practitioner.user,
                recorded_at=at(course.first_day + timedelta(days=day), hour % 24),
            )
        for day, value in course.pain:
            record_pain(
                patient=patient,
                score=value,
                by=practitioner.user,
                recorded_at=at(course.first_day + timedelta(days=day), hour % 24),
            )
    return patients


def build_outsiders(practitioner, service, location) -> None:
    """Patients who did not start care in the period: before it (and seen in it), after
    it, and one whose only visit in it was cancelled."""
    cases = [
        ("Before", [(date(2026, 8, 20), Status.COMPLETED), (date(2026, 9, 15), Status.COMPLETED)]),
        ("After", [(date(2027, 1, 5), Status.COMPLETED)]),
        (
            "Cancelled",
            [(date(2026, 10, 1), Status.CANCELLED), (date(2027, 1, 6), Status.COMPLETED)],
        ),
    ]
    for name, visits in cases:
        patient = PatientFactory(first_name=name, last_name="Outsider")
        for day, status in visits:
            AppointmentFactory(
                patient=patient,
                practitioner=practitioner,
                service=service,
                location=location,
                start=at(day, 20),
                status=status,
                cancelled_at=at(day, 9) if status == Status.CANCELLED else None,
            )
        record_odi(
            patient=patient, answers=odi_answers(40), by=None, recorded_at=at(visits[0][0], 20)
        )
