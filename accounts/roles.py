"""Who a user is to the clinic: patient, reception, practitioner or manager.

Staff roles are Django groups (created by a migration, so their permissions are exact: see
`accounts.permissions`; the admin also needs `is_staff` on the login); superusers count as
managers; a user with a patient record is a patient. A user may hold
several roles (a practitioner who is also a patient of the clinic).
"""

from enum import StrEnum

from django.contrib.auth.models import AnonymousUser, Group
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef, QuerySet

from .models import User


class Role(StrEnum):
    PATIENT = "patient"
    RECEPTION = "reception"
    PRACTITIONER = "practitioner"
    MANAGER = "manager"


STAFF_ROLES = frozenset({Role.RECEPTION, Role.PRACTITIONER, Role.MANAGER})
# Who may read clinical records at all (a practitioner only those of patients they treat).
CLINICAL_ROLES = frozenset({Role.PRACTITIONER, Role.MANAGER})
GROUP_OF_ROLE = {
    Role.RECEPTION: "Reception",
    Role.PRACTITIONER: "Practitioner",
    Role.MANAGER: "Manager",
}
_ROLE_OF_GROUP = {name: role for role, name in GROUP_OF_ROLE.items()}


def with_role_groups(users: QuerySet[User]) -> QuerySet[User]:
    """`users` with the names of their role groups read in the same query, so that
    `roles_of` costs no query of its own (the API's authentication loads every request's
    user this way)."""
    return users.annotate(
        role_group_names=ArraySubquery(
            Group.objects.filter(user=OuterRef("pk"), name__in=_ROLE_OF_GROUP).values("name")
        )
    )


def roles_of(user: User | AnonymousUser) -> frozenset[Role]:
    """The user's roles, worked out once per user object (one query, or none for a user
    loaded `with_role_groups`)."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    cached = getattr(user, "_clinic_roles", None)
    if cached is not None:
        return cached
    names = getattr(user, "role_group_names", None)
    if names is None:
        names = user.groups.filter(name__in=_ROLE_OF_GROUP).values_list("name", flat=True)
    roles: set[Role] = {_ROLE_OF_GROUP[name] for name in names}
    if user.is_superuser:
        roles.add(Role.MANAGER)
    if hasattr(user, "practitioner"):
        roles.add(Role.PRACTITIONER)
    if hasattr(user, "patient"):
        roles.add(Role.PATIENT)
    user._clinic_roles = frozenset(roles)
    return user._clinic_roles


def is_staff_member(user: User | AnonymousUser) -> bool:
    return bool(roles_of(user) & STAFF_ROLES)


def is_front_desk(user: User | AnonymousUser) -> bool:
    """Reception and managers: they book and see bookings for every patient."""
    return bool(roles_of(user) & {Role.RECEPTION, Role.MANAGER})


def is_clinical(user: User | AnonymousUser) -> bool:
    """Practitioners and managers: they may read clinical records (whose: the selectors)."""
    return bool(roles_of(user) & CLINICAL_ROLES)
