"""How long a patient's record must be kept, and whose records are past it.

The rule of Australian health-records law (Victoria's Health Records Act 2001, HPP 4.2;
NSW and the ACT have the same): a health record is kept at least **seven years after the
last entry** in it, and a record begun while the patient was a child at least **until
they turn 25** — whichever is later. `max(last entry + 7 years, birth + 25 years)` is that
rule for everyone: for an adult at the last entry, the 25th birthday is already earlier than
seven years on.

The last entry is the latest of the record's appointments, treatment notes and addenda,
outcome measures, intakes and red-flag clearances, and plan changes (the registration, for
a record with none of them). Nothing here deletes anything — the database refuses to (see
`patients.models.never_deleted`): past retention, a record *may* be destroyed, which is a decision
for a person, outside this software.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import DateTimeField, F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from accounts.models import User
from appointments.models import Appointment
from audit.models import Action
from audit.services import record, record_each
from patients.models import Patient
from treatments.models import (
    Addendum,
    Intake,
    OutcomeMeasure,
    RedFlagClearance,
    TreatmentNote,
    TreatmentPlan,
)

YEARS_AFTER_LAST_ENTRY = 7
KEPT_UNTIL_AGE = 25


def retention_end(*, date_of_birth: date, last_entry: date) -> date:
    """The day a record's retention period ends — from which it is past retention: seven
    years after its last entry, and not before the patient's 25th birthday."""
    return max(
        _years_after(last_entry, YEARS_AFTER_LAST_ENTRY),
        _years_after(date_of_birth, KEPT_UNTIL_AGE),
    )


def with_last_entry(patients: QuerySet[Patient]) -> QuerySet[Patient]:
    """`patients` with `last_entry_at`: the time of the latest entry in each one's record."""

    def latest(queryset, field: str, patient_path: str = "patient") -> Subquery:
        return Subquery(
            queryset.filter(**{patient_path: OuterRef("pk")})
            .order_by(f"-{field}")
            .values(field)[:1],
            output_field=DateTimeField(),
        )

    entries = [
        latest(Appointment.objects.all(), "start"),
        latest(TreatmentNote.objects.all(), "updated_at"),
        latest(Addendum.objects.all(), "created_at", "note__patient"),
        latest(OutcomeMeasure.objects.all(), "recorded_at"),
        latest(Intake.objects.all(), "submitted_at"),
        latest(RedFlagClearance.objects.all(), "recorded_at", "intake__patient"),
        latest(TreatmentPlan.objects.all(), "updated_at"),
    ]
    # PostgreSQL's GREATEST skips NULLs: a record without notes still has its appointments.
    return patients.annotate(last_entry_at=Coalesce(Greatest(*entries), F("created_at")))


def retention_until(patient: Patient) -> date:
    """The day the patient's retention period ends. One query, unless `patient` comes from
    `with_last_entry`."""
    last_entry_at = getattr(patient, "last_entry_at", None)
    if last_entry_at is None:
        last_entry_at = with_last_entry(Patient.objects.filter(pk=patient.pk)).get().last_entry_at
    return retention_end(
        date_of_birth=patient.date_of_birth, last_entry=timezone.localdate(last_entry_at)
    )


@dataclass(frozen=True)
class PastRetention:
    patient: Patient
    last_entry: date
    retention_until: date


def records_past_retention(today: date) -> list[PastRetention]:
    """Every record past retention on `today`, the longest overdue first."""
    found = []
    for patient in with_last_entry(Patient.objects.all()).order_by("pk"):
        until = retention_until(patient)
        if until <= today:
            found.append(PastRetention(patient, timezone.localdate(patient.last_entry_at), until))
    return sorted(found, key=lambda row: (row.retention_until, row.patient.pk))


def review_retention(*, manager: User, today: date) -> list[PastRetention]:
    """A manager's retention review: the records past retention, listed and never deleted.

    Audited as RETENTION_REVIEW: one entry for the review, and one in each listed patient's
    record (the review shows their name and date of birth)."""
    with transaction.atomic():
        found = records_past_retention(today)
        record(
            Action.RETENTION_REVIEW,
            actor=manager,
            detail={"as_of": today.isoformat(), "listed": len(found)},
        )
        record_each(
            Action.RETENTION_REVIEW,
            [row.patient for row in found],
            actor=manager,
            detail={"as_of": today.isoformat()},
        )
    return found


def _years_after(day: date, years: int) -> date:
    """The same day `years` later; 29 February falls on 1 March (never a day early)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)
