"""Closing a patient's record: kept whole, never deleted (see `retention`)."""

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from appointments.models import UPCOMING_STATUSES, Appointment
from audit.models import Action
from audit.services import record
from kernel.errors import DomainError
from patients.models import Patient


def archive_patient(
    *, patient: Patient, by: User, reason: str, request: HttpRequest | None = None
) -> Patient:
    """Close a patient's record instead of deleting it: it is kept whole (the law wants it
    kept, see `retention`), but it leaves every list but the managers', takes no bookings
    and gets no reminders or recalls. Refused while the patient has appointments to come.
    Audited as ARCHIVE, the reason kept on the record."""
    reason = reason.strip()
    if not reason:
        raise DomainError.invalid("reason", ["Say why the record is archived."])
    with transaction.atomic():
        patient = Patient.objects.select_for_update().get(pk=patient.pk)
        if patient.archived_at is not None:
            raise DomainError("patient_archived", "This patient's record is already archived.")
        upcoming = Appointment.objects.filter(
            patient=patient,
            status__in=UPCOMING_STATUSES,
            end__gt=timezone.now(),
        )
        if upcoming.exists():
            raise DomainError(
                "patient_has_upcoming_appointments",
                "The patient has appointments to come: cancel them before archiving.",
            )
        patient.is_active = False
        patient.archived_at = timezone.now()
        patient.archived_by = by
        patient.archive_reason = reason
        patient.save()
        record(
            Action.ARCHIVE,
            request=request,
            actor=by,
            obj=patient,
            detail={"fields": ["archive_reason", "archived_at", "archived_by", "is_active"]},
        )
    return patient
