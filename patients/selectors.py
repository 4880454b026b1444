"""Which patients a user may see, and how staff search for them: the one place that decides
it for the API and the admin."""

import re
from datetime import date

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role, is_front_desk, roles_of
from appointments.models import CANCELLED_STATUSES, Appointment, Source
from practice.models import Practitioner

from .models import BreakGlassAccess, CareAssignment, Patient


def patients_in_care_of(practitioner: Practitioner) -> QuerySet[Patient]:
    """The patients in a practitioner's care now: the one rule that opens a patient's
    details and clinical records to a practitioner (`patients_for`,
    `treatments.selectors.clinical_patients_for` and every selector built on them).

    A care relationship is one the practitioner cannot grant themselves:
    - a booking with them, not cancelled, that someone else made: the patient online, or
      reception or a manager (a booking the practitioner made, through the API as a
      practitioner or in any other role, does not count; a no-show still does, the
      practitioner follows it up);
    - an open care assignment to them, made by reception or a manager (`CareAssignment`);
    - a "break the glass" access of theirs that has not expired (`BreakGlassAccess`).

    One query whatever the number of patients: three EXISTS subqueries, each on an index
    that starts with the patient or the practitioner."""
    booked_by_someone_else = (
        Appointment.objects.filter(patient=OuterRef("pk"), practitioner=practitioner)
        .exclude(status__in=CANCELLED_STATUSES)
        .exclude(source=Source.PRACTITIONER)
        .exclude(created_by=practitioner.user_id)
    )
    assigned = CareAssignment.objects.filter(
        patient=OuterRef("pk"), practitioner=practitioner, ended_at__isnull=True
    )
    glass_broken = BreakGlassAccess.objects.filter(
        patient=OuterRef("pk"), practitioner=practitioner, expires_at__gt=timezone.now()
    )
    return Patient.objects.filter(
        Exists(booked_by_someone_else) | Exists(assigned) | Exists(glass_broken)
    )


def is_in_care_of(practitioner: Practitioner, patient: Patient) -> bool:
    """Whether `patient` is in `practitioner`'s care now (`patients_in_care_of`)."""
    return patients_in_care_of(practitioner).filter(pk=patient.pk).exists()


def patients_open_to_break_glass_for(user: User) -> QuerySet[Patient]:
    """The patients whose records `user` may open by breaking the glass: for a
    practitioner, every patient whose record is not archived (an emergency may be anyone's,
    which is why each use is audited and reviewed); for anyone else, nobody (reception and
    patients read no clinical records, managers read them all already)."""
    if Role.PRACTITIONER in roles_of(user) and hasattr(user, "practitioner"):
        return Patient.objects.filter(archived_at__isnull=True)
    return Patient.objects.none()


def patients_for(user: User) -> QuerySet[Patient]:
    """Managers see every patient; reception every patient whose record is not archived; a
    practitioner the patients in their care (`patients_in_care_of`) whose record is not
    archived; nobody else anyone. (An archived patient's clinical records stay readable to
    those who may read them: `treatments.selectors`.)"""
    roles = roles_of(user)
    if Role.MANAGER in roles:
        return Patient.objects.all()
    current = Patient.objects.filter(archived_at__isnull=True)
    if is_front_desk(user):
        return current
    if Role.PRACTITIONER in roles and hasattr(user, "practitioner"):
        return patients_in_care_of(user.practitioner).filter(archived_at__isnull=True)
    return Patient.objects.none()


def bookable_patients_for(user: User) -> QuerySet[Patient]:
    """The patients `user` may book appointments for: those they may see who are still
    active (an inactive record stays on file but takes no new bookings)."""
    return patients_for(user).filter(is_active=True)


def search_patients(patients: QuerySet[Patient], query: str) -> QuerySet[Patient]:
    """Match a front-desk search box: every word must match a name, the email, the mobile
    or the date of birth.

    A date of birth is written YYYY-MM-DD or D/M/YYYY; a phone number may be typed in
    groups ('0412 345 678', '+61 412 345 678', '(03) 9123-4567'): consecutive groups of
    digits are read as one number, matched against the mobile stored in E.164."""
    for word, digits in _search_terms(query):
        match = (
            Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(email__icontains=word)
        )
        if digits:
            match |= Q(mobile__contains=digits.lstrip("0"))
        birth_date = _as_date(word)
        if birth_date is not None:
            match |= Q(date_of_birth=birth_date)
        patients = patients.filter(match)
    return patients


def possible_duplicates(
    *, first_name: str, last_name: str, date_of_birth: date, exclude_pk: int | None = None
) -> QuerySet[Patient]:
    """Active patients with the same first and last name (in any case) and date of birth:
    most likely the same person, whom a new record would duplicate."""
    duplicates = Patient.objects.alias(
        first_lower=Lower("first_name"), last_lower=Lower("last_name")
    ).filter(
        last_lower=last_name.strip().lower(),
        first_lower=first_name.strip().lower(),
        date_of_birth=date_of_birth,
        is_active=True,
    )
    if exclude_pk is not None:
        duplicates = duplicates.exclude(pk=exclude_pk)
    return duplicates.order_by("pk")


_PHONE_PUNCTUATION = str.maketrans("", "", "+-().")


def _search_terms(query: str) -> list[tuple[str, str]]:
    """The query's words, each with the digits it gives a phone number ("" if none);
    consecutive groups of a phone number ("0412 345 678") make one word."""
    terms: list[tuple[str, str]] = []
    joining = False
    for word in query.split():
        digits = word.translate(_PHONE_PUNCTUATION)
        is_phone_group = digits.isdigit() and _as_date(word) is None
        if is_phone_group and joining:
            previous_word, previous_digits = terms[-1]
            terms[-1] = (previous_word + word, previous_digits + digits)
        else:
            terms.append((word, digits if is_phone_group else ""))
        joining = is_phone_group
    return terms


_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_AUSTRALIAN_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def _as_date(word: str) -> date | None:
    """The date a word writes as YYYY-MM-DD or D/M/YYYY, if it is one."""
    if found := _ISO_DATE.fullmatch(word):
        year, month, day = found.groups()
    elif found := _AUSTRALIAN_DATE.fullmatch(word):
        day, month, year = found.groups()
    else:
        return None
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None
