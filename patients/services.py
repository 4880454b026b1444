"""Changes to patients: self-registration, records kept by reception, profile updates,
archiving a record that is closed (records are never deleted), and the care relationships
that open a patient's clinical records to a practitioner (assignments, break the glass)."""

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from phonenumber_field.phonenumber import PhoneNumber

from accounts.emails import normalize_email
from accounts.models import User
from accounts.roles import Role, is_front_desk, roles_of
from accounts.services import tell_of_registration
from appointments.models import Appointment, Status
from audit.models import Action
from audit.services import record
from kernel.errors import DomainError
from practice.models import Practitioner

from .models import BreakGlassAccess, CareAssignment, Channel, Patient
from .selectors import is_in_care_of

_CONSENT_FIELDS = ("consent_email", "consent_sms")
# Who the patient is: a patient cannot change these online (a patient could otherwise take
# on another patient's name and date of birth); reception corrects them in the admin.
IDENTITY_FIELDS = ("first_name", "last_name", "date_of_birth")
_IDENTITY_LOCKED = "Reception corrects this; it cannot be changed online."
BREAK_GLASS_MAX_REASON = 2000


def register_patient(
    *,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    mobile: PhoneNumber | str,
    date_of_birth: date,
) -> Patient | None:
    """Create a patient's login and record together: both or neither.

    An email that already has a login (a patient's or staff's) gets no second account and
    no access to the first: None, and its owner is told by email that someone tried to
    register with their address. The caller is answered exactly as for a new account
    (`RegisterView`), so that registering tells nobody which addresses have accounts; the
    password is hashed either way, so that the time taken tells nothing either."""
    email = normalize_email(email)
    candidate = User(email=email, first_name=first_name, last_name=last_name)
    try:
        validate_password(password, user=candidate)
    except ValidationError as error:
        raise _invalid("password", list(error.messages)) from error
    existing = User.objects.filter(email=email).values_list("pk", flat=True).first()
    if existing is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    email=email, password=password, first_name=first_name, last_name=last_name
                )
                patient = Patient.objects.create(
                    user=user,
                    first_name=first_name,
                    last_name=last_name,
                    email=email,
                    mobile=mobile,
                    date_of_birth=date_of_birth,
                )
            tell_of_registration(user_id=user.pk, already_registered=False)
            return patient
        except IntegrityError:  # the same email registering twice at once: the other won
            existing = User.objects.filter(email=email).values_list("pk", flat=True).first()
            if existing is None:
                raise
    make_password(password)  # the work creating the login would have done
    tell_of_registration(user_id=existing, already_registered=True)
    return None


def update_patient_profile(*, patient: Patient, changes: dict[str, Any]) -> Patient:
    """Apply a patient's (or reception's) edits, keeping consents consistent with contacts.

    Consent to a channel needs a way to reach the patient on it; the time consents last
    changed is recorded.
    """
    with transaction.atomic():
        patient = Patient.objects.select_for_update().get(pk=patient.pk)
        consents_before = [getattr(patient, name) for name in _CONSENT_FIELDS]
        for name, value in changes.items():
            setattr(patient, name, value)
        _check_contact_consents(patient)
        if [getattr(patient, name) for name in _CONSENT_FIELDS] != consents_before:
            patient.consents_updated_at = timezone.now()
        patient.save()
    return patient


def update_own_profile(*, patient: Patient, changes: dict[str, Any]) -> Patient:
    """A patient's edits of their own profile (online): contact details and consents, as
    `update_patient_profile`. Their name and date of birth say who they are: a change to
    them is refused (400 `identity_locked`, naming each field); sending them unchanged is
    fine (a website may send the whole form back)."""
    locked = sorted(
        name
        for name in IDENTITY_FIELDS
        if name in changes and changes[name] != getattr(patient, name)
    )
    if locked:
        raise DomainError(
            "identity_locked",
            "Your name and date of birth identify you: ask reception to correct them.",
            fields={name: [_IDENTITY_LOCKED] for name in locked},
            status=400,
        )
    return update_patient_profile(patient=patient, changes=changes)


def add_patient(patient: Patient) -> Patient:
    """Save a new patient record that reception keeps (no login of their own), with the same
    consent rules as `update_patient_profile`; consents given now are recorded as of now."""
    if patient.pk is not None:
        raise ValueError("add_patient saves new patients only.")
    _check_contact_consents(patient)
    if any(getattr(patient, name) for name in _CONSENT_FIELDS):
        patient.consents_updated_at = timezone.now()
    patient.save()
    return patient


def archive_patient(
    *, patient: Patient, by: User, reason: str, request: HttpRequest | None = None
) -> Patient:
    """Close a patient's record instead of deleting it: it is kept whole (the law wants it
    kept, see `retention`), but it leaves every list but the managers', takes no bookings
    and gets no reminders or recalls. Refused while the patient has appointments to come.
    Audited as ARCHIVE, the reason kept on the record."""
    reason = reason.strip()
    if not reason:
        raise _invalid("reason", ["Say why the record is archived."])
    with transaction.atomic():
        patient = Patient.objects.select_for_update().get(pk=patient.pk)
        if patient.archived_at is not None:
            raise DomainError("patient_archived", "This patient's record is already archived.")
        upcoming = Appointment.objects.filter(
            patient=patient,
            status__in=(Status.BOOKED, Status.CHECKED_IN),
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


def check_not_archived(patient: Patient) -> None:
    """An archived record takes no new bookings (nor moved ones).

    Call it in the booking's transaction: it reads the record under a lock that
    `archive_patient`'s waits for (and the other way round), so a booking and an archiving
    at the same moment are taken one after the other, never both."""
    archived_at = (
        Patient.objects.select_for_update(no_key=True)
        .filter(pk=patient.pk)
        .values_list("archived_at", flat=True)
        .get()
    )
    if archived_at is not None:
        raise DomainError(
            "patient_archived", "This patient's record is archived: it takes no bookings."
        )


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
        raise DomainError(
            "not_front_desk", "Only reception or a manager assigns patients.", status=403
        )
    if practitioner.user_id == by.pk:
        raise DomainError(
            "own_care_assignment",
            "A practitioner cannot put a patient in their own care: ask a colleague.",
            status=403,
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
        raise DomainError(
            "not_front_desk", "Only reception or a manager ends an assignment.", status=403
        )
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
        raise DomainError(
            "not_a_practitioner", "Only a practitioner can break the glass.", status=403
        )
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
        raise _invalid("reason", [f"Say why you need this record ({shortest} characters or more)."])
    if len(reason) > BREAK_GLASS_MAX_REASON:
        raise _invalid("reason", [f"At most {BREAK_GLASS_MAX_REASON} characters."])
    if "\x00" in reason or not _is_encodable(reason):  # PostgreSQL's text takes neither
        raise _invalid("reason", ["Write the reason in plain text."])
    return reason


def _is_encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


def contact_consent_problems(patient: Patient) -> dict[str, list[str]]:
    """What is wrong with the patient's consents given their contact details, by field:
    consent to a channel (or preferring it) needs a way to reach the patient on it."""
    problems: dict[str, list[str]] = {}
    if patient.consent_email and not patient.email:
        problems["consent_email"] = ["Add an email address to get messages by email."]
    if patient.consent_sms and not patient.mobile:
        problems["consent_sms"] = ["Add a mobile number to get messages by SMS."]
    if patient.preferred_channel == Channel.SMS and not patient.mobile:
        problems["preferred_channel"] = ["Add a mobile number to prefer SMS."]
    return problems


def _check_contact_consents(patient: Patient) -> None:
    problems = contact_consent_problems(patient)
    if problems:
        field, messages = next(iter(problems.items()))
        raise _invalid(field, messages)


def _invalid(field: str, messages: list[str]) -> DomainError:
    return DomainError(
        "invalid", "Some fields are not valid.", fields={field: messages}, status=400
    )
