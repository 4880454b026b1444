"""Who is in whose care, and so which patients a user may see: the one place that decides
it for the API and the admin of every app.

A care relationship is made by the diary (a booking someone else made), by reception (an
assignment) or by the practitioner in an emergency (break the glass), which is why it sits
above both the patient register and the appointments."""

import operator
from functools import reduce

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role, is_front_desk, roles_of
from appointments.models import CANCELLED_STATUSES, Appointment, Source
from patients.models import BreakGlassAccess, CareAssignment, Patient
from practice.models import Practitioner


def in_care_of(practitioner: Practitioner, patient: str = "pk") -> Q:
    """The rows whose `patient` (a column naming a patient) is a patient in the
    practitioner's care now: the one rule that opens a patient's details and clinical
    records to a practitioner (`patients_in_care_of`, `patients_for`,
    `treatments.selectors.clinical_patients_for` and every selector built on them).

    A care relationship is one the practitioner cannot grant themselves:
    - a booking with them, not cancelled, that someone else made: the patient online, or
      reception or a manager (a booking the practitioner made, through the API as a
      practitioner or in any other role, does not count; a no-show still does, the
      practitioner follows it up);
    - an open care assignment to them, made by reception or a manager (`CareAssignment`);
    - a "break the glass" access of theirs that has not expired (`BreakGlassAccess`).

    Each kind is read once per query, from an index that starts with the practitioner, into
    a hashed set that every row is checked against: a list or its count over thousands of
    rows (a practitioner's notes) checks each row in memory, where a correlated EXISTS per
    row ran three index probes for each patient in the table."""
    booked_by_someone_else = (
        Appointment.objects.filter(practitioner=practitioner)
        .exclude(status__in=CANCELLED_STATUSES)
        .exclude(source=Source.PRACTITIONER)
        .exclude(created_by=practitioner.user_id)
    )
    assigned = CareAssignment.objects.filter(practitioner=practitioner, ended_at__isnull=True)
    glass_broken = BreakGlassAccess.objects.filter(
        practitioner=practitioner, expires_at__gt=timezone.now()
    )
    relationships = (booked_by_someone_else, assigned, glass_broken)
    return reduce(
        operator.or_,
        (Q(**{f"{patient}__in": kind.values("patient_id")}) for kind in relationships),
    )


def patients_in_care_of(practitioner: Practitioner) -> QuerySet[Patient]:
    """The patients in a practitioner's care now (`in_care_of`)."""
    return Patient.objects.filter(in_care_of(practitioner))


def is_in_care_of(practitioner: Practitioner, patient: Patient) -> bool:
    """Whether `patient` is in `practitioner`'s care now (`in_care_of`)."""
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
