"""Changes to patients: self-registration, records kept by reception, profile updates,
archiving a record that is closed (records are never deleted), and the care relationships
(the care relationships are `care.services`)."""

from datetime import date, datetime
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from phonenumber_field.phonenumber import PhoneNumber

from accounts.emails import normalize_email
from accounts.models import User
from accounts.services import tell_of_registration
from audit.models import Action
from audit.services import record
from kernel.errors import DomainError

from .models import Channel, Patient
from .selectors import possible_duplicates
from .signals import consents_changed

_CONSENT_FIELDS = ("consent_email", "consent_sms")
# Each address and the mark that says it is not worth sending to.
_UNDELIVERABLE_MARKS = {"email": "email_undeliverable", "mobile": "mobile_undeliverable"}
# Who the patient is: a patient cannot change these online (a patient could otherwise take
# on another patient's name and date of birth); reception corrects them in the admin.
IDENTITY_FIELDS = ("first_name", "last_name", "date_of_birth")
_IDENTITY_LOCKED = "Reception corrects this; it cannot be changed online."


def register_patient(
    *,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    mobile: PhoneNumber | str,
    date_of_birth: date,
    consent_email: bool = False,
    consent_sms: bool = False,
) -> Patient | None:
    """Create a patient's login and record together: both or neither, with the consents
    the patient gave (each channel off unless they said yes), recorded as of now.

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
        raise DomainError.invalid("password", list(error.messages)) from error
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
                    consent_email=consent_email,
                    consent_sms=consent_sms,
                    consents_updated_at=timezone.now() if consent_email or consent_sms else None,
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


def update_patient_profile(
    *, patient: Patient, changes: dict[str, Any], now: datetime | None = None
) -> Patient:
    """Apply a patient's (or reception's) edits, keeping consents consistent with contacts.

    Consent to a channel needs a way to reach the patient on it; the time consents last
    changed is recorded; an address marked undeliverable (a bounce, a dead number) is tried
    again once it is changed. This is the one door to a patient's consents (their profile
    online, reception's patient page, a STOP by SMS): a change is announced
    (`consents_changed`) in the same transaction, so the messages of their upcoming bookings
    follow it at once.
    """
    now = now or timezone.now()
    with transaction.atomic():
        patient = Patient.objects.select_for_update().get(pk=patient.pk)
        consents_before = [getattr(patient, name) for name in _CONSENT_FIELDS]
        addresses_before = {name: getattr(patient, name) for name in _UNDELIVERABLE_MARKS}
        for name, value in changes.items():
            setattr(patient, name, value)
        for name, mark in _UNDELIVERABLE_MARKS.items():
            if getattr(patient, name) != addresses_before[name]:
                setattr(patient, mark, "")  # a new address is worth trying
        _check_contact_consents(patient)
        consents_differ = [getattr(patient, name) for name in _CONSENT_FIELDS] != consents_before
        if consents_differ:
            patient.consents_updated_at = now
        patient.save()
        if consents_differ:
            consents_changed.send(sender=Patient, patient=patient, now=now)
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


def check_not_archived(archived_at: datetime | None) -> None:
    """An archived record takes no new bookings (nor moved ones).

    Give it the record's `archived_at` as read under the patient's row lock (the one every
    change to a patient's bookings takes first, FOR UPDATE, as `archive_patient` does), so
    that a booking and an archiving at the same moment are taken one after the other,
    never both."""
    if archived_at is not None:
        raise DomainError(
            "patient_archived", "This patient's record is archived: it takes no bookings."
        )


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
        raise DomainError.invalid(field, messages)


_MERGED = (
    "Registered online while reception kept record #{kept}; the login was linked to that "
    "record when it confirmed its email address, and this one was closed unused."
)


def link_verified_login(*, user: User, request: HttpRequest | None = None) -> Patient | None:
    """A login's address is now proved (`accounts.signals.email_verified`): its patient
    record follows it, and a record reception keeps for that address becomes the login's.

    Registration always makes a record of its own, so that the patient can sign in, fill
    the intake and hold a time before they confirm; and so that an unconfirmed registration
    tells nobody whether the clinic knows the address. Once the address is proved:

    - exactly one active record with that address and the same date of birth, and no
      login (reception's) → the login is moved to it, with the consents and mobile the
      patient gave online when they are newer; the registration's record, which then
      holds nothing but its creation, is archived (records are never deleted) with the
      reason, and both steps are audited;
    - the registration's record already holds something (an intake, a hold...), or the
      address matches several records, or one born on another day → nothing is merged
      automatically: reception is told, as for any probable duplicate;
    - another active record with the same name and date of birth → `possible_duplicate_of`
      points at it, for reception (the admin's patient list and page).

    The caller's transaction holds the whole of it."""
    online = Patient.objects.select_for_update().filter(user=user).first()
    if online is None:
        return None  # a member of staff's login: no patient record to link
    if online.email != user.email:
        online.email = user.email
        online.save(update_fields=["email", "updated_at"])
    kept = _reception_records_for(user.email, exclude_pk=online.pk)
    # The same date of birth too: families share an address, and a parent registering must
    # not be handed their child's record (or a partner's) because reception typed it there.
    if len(kept) == 1 and kept[0].date_of_birth == online.date_of_birth and _holds_nothing(online):
        return _take_over(online=online, kept=kept[0], user=user, request=request)
    duplicate = kept[0] if kept else None
    if duplicate is None:
        duplicate = possible_duplicates(
            first_name=online.first_name,
            last_name=online.last_name,
            date_of_birth=online.date_of_birth,
            exclude_pk=online.pk,
        ).first()
    if duplicate is not None and online.possible_duplicate_of_id != duplicate.pk:
        online.possible_duplicate_of = duplicate
        online.save(update_fields=["possible_duplicate_of", "updated_at"])
        record(
            Action.UPDATE,
            request=request,
            actor=user,
            obj=online,
            detail={"possible_duplicate_of": duplicate.pk},
        )
    return online


def _reception_records_for(email: str, *, exclude_pk: int) -> list[Patient]:
    """Active records without a login whose address is `email` in its one spelling
    (reception types addresses as they come: compared after `normalize_email`)."""
    candidates = (
        Patient.objects.select_for_update()
        .filter(user=None, email__iexact=email, is_active=True, archived_at=None)
        .exclude(pk=exclude_pk)
        .order_by("pk")
    )
    return [patient for patient in candidates if normalize_email(patient.email) == email]


def _holds_nothing(patient: Patient) -> bool:
    """Whether nothing but the audit log points at the record (no intake, booking, hold,
    message...): asked of every relation the apps above declare, without naming them."""
    for relation in Patient._meta.related_objects:
        model = relation.related_model
        if model._meta.label_lower == "audit.auditentry" or model is Patient:
            continue
        if model._base_manager.filter(**{relation.field.name: patient}).exists():
            return False
    return True


def _take_over(*, online: Patient, kept: Patient, user: User, request) -> Patient:
    now = timezone.now()
    online.user = None
    online.is_active = False
    online.archived_at = now
    online.archived_by = user
    online.archive_reason = _MERGED.format(kept=kept.pk)
    online.save()
    kept.user = user
    kept.save(update_fields=["user", "updated_at"])
    record(Action.ARCHIVE, request=request, actor=user, obj=online, detail={"merged_into": kept.pk})
    record(
        Action.UPDATE,
        request=request,
        actor=user,
        obj=kept,
        detail={"login_linked": user.pk, "merged_from": online.pk},
    )
    changes: dict[str, Any] = {}
    if not kept.mobile and online.mobile:
        changes["mobile"] = online.mobile
    online_answered_later = online.consents_updated_at is not None and (
        kept.consents_updated_at is None or online.consents_updated_at > kept.consents_updated_at
    )
    if online_answered_later:
        changes.update({name: getattr(online, name) for name in _CONSENT_FIELDS})
    if changes:
        kept = update_patient_profile(patient=kept, changes=changes, now=now)
    return kept
