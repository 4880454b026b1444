"""Who may change what of a login. No role grants more than it holds.

- **Privileges** (superuser and staff status, groups, single permissions) are granted and
  taken away by superusers only: a Manager who could tick them could make themselves, or
  a friend, anything.
- **Sign-in secrets** (the password and the two-factor device) are changed only by their
  owner (the admin's own password form, the enrolment page) or a superuser: whoever sets
  another's password, or removes their phone, can sign in as them.
- **Account details** (name, email, active) of another login are changed by a holder of
  `accounts.change_user` only when that login holds strictly less than they do (never a
  superuser, nor a peer, nor anyone holding a permission they lack); their own, always.

The user admin, the two-factor device admin and every service that changes a login ask
these functions; the API has no endpoint that changes another login.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import User

# The User fields that make a login more than it is.
PRIVILEGE_FIELDS = ("is_superuser", "is_staff", "groups", "user_permissions")


def may_grant_privileges(actor: User) -> bool:
    return actor.is_active and actor.is_superuser


def may_change_sign_in_of(actor: User, target: User) -> bool:
    """May `actor` set `target`'s password or add, change or remove their device?"""
    return actor.is_active and (actor.is_superuser or actor.pk == target.pk)


def may_change_account(actor: User, target: User) -> bool:
    """May `actor` change `target`'s name, email or active flag?"""
    if not actor.is_active or not actor.has_perm("accounts.change_user"):
        return False
    if actor.is_superuser or actor.pk == target.pk:
        return True
    return not target.is_superuser and permissions_held(target) < permissions_held(actor)


def permissions_held(user: User) -> set[tuple[str, str]]:
    """The permissions of the login's groups and its own, active or not: reactivating a
    practitioner gives back what they hold (Django's `get_all_permissions` is empty for
    an inactive login)."""
    from django.contrib.auth.models import Permission
    from django.db.models import Q

    held = Permission.objects.filter(Q(user=user) | Q(group__user=user))
    return set(held.values_list("content_type__app_label", "codename"))
