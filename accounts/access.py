"""Who may call an endpoint, by role: the DRF permissions every app's API uses. The roles
themselves are `accounts.roles`; what each role may do to which record is each app's
selectors'."""

from rest_framework.permissions import BasePermission

from .roles import Role, is_staff_member, roles_of


class IsStaffMember(BasePermission):
    message = "Only clinic staff can do this."

    def has_permission(self, request, view) -> bool:
        return is_staff_member(request.user)


class IsPatient(BasePermission):
    message = "This is for patients; your login has no patient record."

    def has_permission(self, request, view) -> bool:
        return Role.PATIENT in roles_of(request.user)


class IsPractitioner(BasePermission):
    message = "Only a practitioner can break the glass."

    def has_permission(self, request, view) -> bool:
        return Role.PRACTITIONER in roles_of(request.user)
