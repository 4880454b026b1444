"""The tokens in the links account emails carry: signed, expiring, and good once.

A token is `django.core.signing` over the login's id, what the link is for and a
fingerprint of the state the link changes (`_state`). Following the link changes that state
(the address becomes verified, the password changes, the pending address is applied), so
the same token no longer matches: single use without a table of used tokens. Asking again
for a new address, or a new password, likewise retires the links sent before.

No address or other personal detail is in the token itself (links end up in browser
histories and proxy logs): the pending address is kept on the login, and only its
fingerprint is signed.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from django.conf import settings
from django.core import signing
from django.utils.crypto import salted_hmac

from .models import User


class Purpose(StrEnum):
    VERIFY_EMAIL = "verify"  # the address the login has
    CHANGE_EMAIL = "change"  # the login's pending address
    RESET_PASSWORD = "reset"


_SALT = "accounts.links"


class BadLink(Exception):
    """The token is forged, expired, used, or for another purpose."""


def make_token(user: User, purpose: Purpose) -> str:
    return signing.dumps({"u": user.pk, "p": str(purpose), "s": _state(user, purpose)}, salt=_SALT)


def user_of(token: str, purpose: Purpose) -> User:
    """The login `token` speaks for, as it is now; `BadLink` unless the token is genuine,
    within its lifetime, for `purpose`, and its state still holds (not used yet)."""
    try:
        claims = signing.loads(token, salt=_SALT, max_age=lifetime(purpose))
    except signing.BadSignature as error:  # SignatureExpired is one too
        raise BadLink from error
    if not isinstance(claims, dict) or claims.get("p") != str(purpose):
        raise BadLink
    user = User.objects.filter(pk=claims.get("u"), is_active=True).first()
    if user is None or claims.get("s") != _state(user, purpose):
        raise BadLink
    return user


def lifetime(purpose: Purpose) -> timedelta:
    if purpose is Purpose.RESET_PASSWORD:
        return timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
    return settings.EMAIL_VERIFICATION_MAX_AGE


def _state(user: User, purpose: Purpose) -> str:
    """What following the link changes, so that it works once:

    - verifying the address: the address and when it was verified (empty until then);
    - changing the address: the pending address, the current one and the password (a new
      password, after a break-in say, retires a change the intruder asked for);
    - resetting the password: the password, the address and the last sign-in (a reset
      asked for and then not needed dies when its owner signs in: Django's rule).
    """
    match purpose:
        case Purpose.VERIFY_EMAIL:
            parts = [user.email, user.email_verified_at]
        case Purpose.CHANGE_EMAIL:
            parts = [user.pending_email, user.email, user.password]
        case Purpose.RESET_PASSWORD:
            parts = [user.password, user.email, user.last_login and user.last_login.timestamp()]
    value = "|".join(str(part) for part in [user.pk, purpose, *parts])
    return salted_hmac(_SALT, value, algorithm="sha256").hexdigest()[:32]
