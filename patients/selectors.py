"""Which patients a user may see: the one place that decides it for the API."""

from datetime import date

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import User
from accounts.roles import Role, is_front_desk, roles_of
from appointments.models import Appointment

from .models import Patient


def patients_for(user: User) -> QuerySet[Patient]:
    """Reception and managers see every patient; a practitioner the patients they treat
    (anyone with an appointment with them); nobody else anyone."""
    if is_front_desk(user):
        return Patient.objects.all()
    if Role.PRACTITIONER in roles_of(user) and hasattr(user, "practitioner"):
        treated = Appointment.objects.filter(patient=OuterRef("pk"), practitioner=user.practitioner)
        return Patient.objects.filter(Exists(treated))
    return Patient.objects.none()


def search_patients(patients: QuerySet[Patient], query: str) -> QuerySet[Patient]:
    """Match a front-desk search box: any word against names, email, mobile or a date of birth."""
    for word in query.split():
        match = (
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(email__icontains=word)
            | Q(mobile__contains=word.lstrip("0"))
        )
        if _looks_like_a_date(word):
            match |= Q(date_of_birth=word)
        patients = patients.filter(match)
    return patients


def _looks_like_a_date(word: str) -> bool:
    try:
        date.fromisoformat(word)
    except ValueError:
        return False
    return True
