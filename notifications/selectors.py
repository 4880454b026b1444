"""Which messages of the log a user may read: the one place that decides it for the API."""

from django.db.models import Q, QuerySet

from accounts.models import User
from accounts.roles import Role, is_front_desk, is_staff_member, roles_of
from care.selectors import patients_for

from .models import Notification, Reply


def notifications_for(user: User) -> QuerySet[Notification]:
    """Staff read the messages of the patients they may see (`patients_for`): managers
    every patient's, reception those whose record is not archived, a practitioner those of
    the patients they treat; a message names its patient, its recipient's address and why
    it was sent, which is no business of a practitioner who does not treat them. Patients
    read none here."""
    notifications = Notification.objects.select_related("patient")
    if Role.MANAGER in roles_of(user):
        return notifications  # every patient: no need to ask which
    if is_staff_member(user):
        return notifications.filter(patient__in=patients_for(user))
    return notifications.none()


def replies_for(user: User) -> QuerySet[Reply]:
    """The patients' SMS replies a user may read, on the same terms as the messages; the
    front desk also reads those from numbers no patient has (someone must)."""
    replies = Reply.objects.select_related("patient", "appointment")
    if Role.MANAGER in roles_of(user):
        return replies
    if not is_staff_member(user):
        return replies.none()
    theirs = Q(patient__in=patients_for(user))
    return replies.filter(theirs | Q(patient__isnull=True) if is_front_desk(user) else theirs)
