"""Changes to the care relationships that open a patient's clinical records to a
practitioner: assignments by reception or a manager, and break the glass."""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role, is_front_desk, roles_of
from audit.models import Action
from audit.services import record
from kernel.errors import DomainError
from patients.models import BreakGlassAccess, CareAssignment, Patient
from practice.models import Practitioner

from .selectors import is_in_care_of

BREAK_GLASS_MAX_REASON = 2000


def assign_care(
    *,
    patient: Patient,
    practitioner: Practitioner,
    by: User,
    request: HttpRequest | None = None,
) -> CareAssignment:
    """Put a patient in a practitioner's care (`selectors.patients_in_care_of`): reception's
    or a manager's act, never the practitioner's own (403 `not_front_desk`,
    `own_care_assignment`). One open assignment per pair (409 `already_assigned`); an
    archived record takes none (409 `patient_archived`). Audited as CREATE."""
    if not is_front_desk(by):
        raise DomainError("not_front_desk", "Only reception or a manager assigns patients.")
    if practitioner.user_id == by.pk:
        raise DomainError(
            "own_care_assignment",
            "A practitioner cannot put a patient in their own care: ask a colleague.",
        )
    if patient.archived_at is not None:
        raise DomainError("patient_archived", "This patient's record is archived.")
    try:
        with transaction.atomic():
            assignment = CareAssignment.objects.create(
                patient=patient, practitioner=practitioner, assigned_by=by
            )
            record(Action.CREATE, request=request, actor=by, obj=assignment)
    except IntegrityError as error:  # the unique open assignment per pair
        raise DomainError(
            "already_assigned", "This patient is already in this practitioner's care."
        ) from error
    return assignment


def end_care_assignment(
    *, assignment: CareAssignment, by: User, request: HttpRequest | None = None
) -> CareAssignment:
    """Close an assignment (kept, with who ended it and when): reception's or a manager's
    act. Ending one that has ended already changes nothing. Audited as UPDATE."""
    if not is_front_desk(by):
        raise DomainError("not_front_desk", "Only reception or a manager ends an assignment.")
    with transaction.atomic():
        assignment = CareAssignment.objects.select_for_update().get(pk=assignment.pk)
        if assignment.ended_at is not None:
            return assignment
        assignment.ended_at = timezone.now()
        assignment.ended_by = by
        assignment.save(update_fields=["ended_at", "ended_by"])
        record(
            Action.UPDATE,
            request=request,
            actor=by,
            obj=assignment,
            detail={"fields": ["ended_at", "ended_by"]},
        )
    return assignment


def break_glass(
    *, patient: Patient, by: User, reason: str, request: HttpRequest | None = None
) -> BreakGlassAccess:
    """Open one patient's clinical records to a practitioner with no care relationship
    with them, for `BREAK_GLASS_HOURS`, on a stated reason (at least
    `BREAK_GLASS_MIN_REASON` characters). Only practitioners (403 `not_a_practitioner`:
    reception and patients read no clinical records, managers read them all); refused
    when the patient is in their care already (409 `already_in_care`) or archived.
    Written to the audit log (BREAK_GLASS) for the manager's review."""
    practitioner = getattr(by, "practitioner", None)
    if practitioner is None or Role.PRACTITIONER not in roles_of(by):
        raise DomainError("not_a_practitioner", "Only a practitioner can break the glass.")
    reason = _break_glass_reason(reason)
    if patient.archived_at is not None:
        raise DomainError("patient_archived", "This patient's record is archived.")
    if is_in_care_of(practitioner, patient):
        raise DomainError(
            "already_in_care", "This patient is in your care: their records are open to you."
        )
    now = timezone.now()
    with transaction.atomic():
        access = BreakGlassAccess.objects.create(
            patient=patient,
            practitioner=practitioner,
            reason=reason,
            granted_at=now,
            expires_at=now + timedelta(hours=settings.BREAK_GLASS_HOURS),
        )
        record(
            Action.BREAK_GLASS,
            request=request,
            actor=by,
            obj=access,
            detail={"until": access.expires_at.isoformat()},
        )
    return access


def _break_glass_reason(reason: str) -> str:
    """The reason, stripped; refused unless it says something a reviewer can judge."""
    reason = reason.strip()
    shortest = settings.BREAK_GLASS_MIN_REASON
    if len(reason) < shortest:
        raise DomainError.invalid(
            "reason", [f"Say why you need this record ({shortest} characters or more)."]
        )
    if len(reason) > BREAK_GLASS_MAX_REASON:
        raise DomainError.invalid("reason", [f"At most {BREAK_GLASS_MAX_REASON} characters."])
    if "\x00" in reason or not _is_encodable(reason):  # PostgreSQL's text takes neither
        raise DomainError.invalid("reason", ["Write the reason in plain text."])
    return reason


def _is_encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True
