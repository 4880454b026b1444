"""Which appointments a user may see: the one place that decides it for the API."""

from django.db.models import Q, QuerySet

from accounts.models import User
from accounts.roles import Role, is_front_desk, roles_of

from .models import Appointment


def appointments_for(user: User) -> QuerySet[Appointment]:
    """Reception and managers see every booking; a practitioner their own diary; a patient
    their own appointments; anyone else nothing."""
    appointments = Appointment.objects.select_related(
        "patient", "practitioner__user", "service", "location", "room"
    )
    if is_front_desk(user):
        return appointments
    roles = roles_of(user)
    mine = Q()
    if Role.PRACTITIONER in roles and hasattr(user, "practitioner"):
        mine |= Q(practitioner=user.practitioner)
    if Role.PATIENT in roles:
        mine |= Q(patient=user.patient)
    return appointments.filter(mine) if mine else appointments.none()
