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


class BooksWithVerifiedEmail(BasePermission):
    """A patient books for themselves only once their email address is confirmed (the
    link sent on registration): a booking sends messages to that address, and an address
    nobody proved could be someone else's. Everything else (browsing, holding a slot, the
    intake, the profile) is open before. Staff booking for a patient are not asked. A view
    whose booking actions are other than `create` names them in `booking_actions`."""

    message = "Confirm your email address first: open the link we sent you (or ask for a new one)."
    code = "email_unverified"

    def has_permission(self, request, view) -> bool:
        booking = getattr(view, "booking_actions", ("create",))
        if request.method != "POST" or getattr(view, "action", None) not in booking:
            return True
        if is_staff_member(request.user):
            return True
        return bool(getattr(request.user, "email_verified", False))


class IsManager(BasePermission):
    """The clinic manager (the Manager group, or a superuser)."""

    message = "Only the clinic's managers can do this."

    def has_permission(self, request, view) -> bool:
        return Role.MANAGER in roles_of(request.user)
