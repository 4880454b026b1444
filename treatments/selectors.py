"""Who may read clinical records: the one place that decides it.

Managers read every patient's records; a practitioner those of the patients in their care
(`patients.selectors.patients_in_care_of`: a booking someone else made, an assignment by
reception or a manager, or a "break the glass" that has not expired); reception and other
patients nobody's. Patients read their own signed notes and scores through their export,
not through these.
"""

from collections.abc import Iterable

from django.db.models import Prefetch, QuerySet

from accounts.models import User
from accounts.roles import Role, roles_of
from appointments.models import Appointment
from patients.models import Patient
from patients.selectors import patients_in_care_of

from .models import Addendum, Intake, OutcomeMeasure, PlanPhase, TreatmentNote, TreatmentPlan


def clinical_patients_for(user: User) -> QuerySet[Patient]:
    roles = roles_of(user)
    if Role.MANAGER in roles:
        return Patient.objects.all()
    if Role.PRACTITIONER in roles and hasattr(user, "practitioner"):
        return patients_in_care_of(user.practitioner)
    return Patient.objects.none()


def clinical_patient_ids_among(user: User, patient_ids: Iterable[int]) -> set[int]:
    """Which of these patients' clinical records `user` may read (one query): for pages
    that show many patients and the clinical part (red-flag reasons) only for some."""
    ids = set(patient_ids)
    if not ids:
        return set()
    return set(clinical_patients_for(user).filter(pk__in=ids).values_list("pk", flat=True))


def sessions_to_write_up_for(user: User) -> QuerySet[Appointment]:
    """The sessions whose note the user may start: their own, as the session's
    practitioner (a manager writes no notes)."""
    practitioner = getattr(user, "practitioner", None)
    if practitioner is None or Role.PRACTITIONER not in roles_of(user):
        return Appointment.objects.none()
    return Appointment.objects.filter(practitioner=practitioner)


def notes_for(user: User) -> QuerySet[TreatmentNote]:
    return (
        TreatmentNote.objects.filter(patient__in=clinical_patients_for(user))
        .select_related(
            "appointment__patient",
            "appointment__service",
            "appointment__location",
            "author__user",
        )
        .prefetch_related("exercises", Prefetch("addenda", queryset=_addenda()))
    )


def plans_for(user: User) -> QuerySet[TreatmentPlan]:
    return (
        TreatmentPlan.objects.filter(patient__in=clinical_patients_for(user))
        .select_related("patient", "practitioner__user")
        .prefetch_related(Prefetch("phases", queryset=PlanPhase.objects.order_by("pk")))
    )


def outcomes_for(user: User) -> QuerySet[OutcomeMeasure]:
    return OutcomeMeasure.objects.filter(patient__in=clinical_patients_for(user)).select_related(
        "patient"
    )


def intakes_for(user: User) -> QuerySet[Intake]:
    return Intake.objects.filter(patient__in=clinical_patients_for(user)).select_related(
        "patient", "clearance"
    )


def open_red_flags_by_patient(patient_ids: Iterable[int]) -> dict[int, list[str]]:
    """The open red flags of many patients in one query: those of each patient's latest
    intake, unless a practitioner cleared them. Patients without open red flags are left
    out. It decides nothing about visibility: the reasons are for practitioners and
    managers; reception shows only that there are some."""
    ids = list(patient_ids)
    if not ids:
        return {}
    latest = (
        Intake.objects.filter(patient_id__in=ids)
        .order_by("patient_id", "-submitted_at", "-pk")
        .distinct("patient_id")
        .values_list("patient_id", "red_flags", "clearance")
    )
    return {
        patient_id: list(red_flags)
        for patient_id, red_flags, clearance in latest
        if red_flags and clearance is None
    }


def _addenda() -> QuerySet[Addendum]:
    return Addendum.objects.select_related("author__user").order_by("created_at", "pk")
