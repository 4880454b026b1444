"""An account's life after registration: proving the address, resetting a forgotten
password, changing the address. The links these send are `accounts.links`' tokens; the
emails are written by a worker (`accounts.tasks`), queued once the transaction commits.

What must tell nobody whether an address has an account (asking for a reset, or for the
verification link again) does the same work for every address: it queues the task with the
address, and the worker looks the login up.

Each change is announced (`accounts.signals.account_changed`, and `email_verified` when an
address is proved) inside its transaction, for the audit log and for the patient register,
which follows a login's address and links a verified login to the record reception keeps.
"""

from __future__ import annotations

import logging

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from kernel.errors import DomainError

from . import tasks
from .emails import normalize_email
from .links import BadLink, Purpose, user_of
from .models import User
from .signals import account_changed, email_verified

logger = logging.getLogger(__name__)

INVALID_TOKEN = (
    "This link is not valid: it may have expired or have been used already. Ask for a new one."
)


def verify_email(*, token: str, request: HttpRequest | None = None) -> User:
    """Follow a link sent to an address: the login's own (registration, or asked again),
    which marks it verified; or a pending new one, which replaces the login's address,
    verified. Good once; `invalid_token` (400) otherwise, `email_taken` (409) when another
    login has taken the new address meanwhile."""
    with transaction.atomic():
        user, purpose = _locked_user_of(token, Purpose.VERIFY_EMAIL, Purpose.CHANGE_EMAIL)
        old_email = user.email
        if purpose is Purpose.CHANGE_EMAIL:
            if User.objects.filter(email=user.pending_email).exclude(pk=user.pk).exists():
                raise DomainError("email_taken", "Another account uses this address now.")
            user.email, user.pending_email = user.pending_email, ""
        user.email_verified_at = timezone.now()
        try:
            with transaction.atomic():
                user.save(update_fields=["email", "pending_email", "email_verified_at"])
        except IntegrityError as error:  # the address taken at this very moment
            raise DomainError("email_taken", "Another account uses this address now.") from error
        change = "email_changed" if purpose is Purpose.CHANGE_EMAIL else "email_verified"
        detail = {"from": old_email, "to": user.email} if purpose is Purpose.CHANGE_EMAIL else {}
        account_changed.send(sender=User, request=request, user=user, change=change, detail=detail)
        email_verified.send(sender=User, request=request, user=user, previous_email=old_email)
    return user


def ask_for_verification_email(*, email: str) -> None:
    """Send the verification link again to `email`'s login, if it has one and it is not
    verified yet; the caller answers alike in every case."""
    _queue(tasks.send_verification_email, normalize_email(email))


def ask_password_reset(*, email: str) -> None:
    """Send a reset link to `email`'s login, if there is one; the caller answers alike."""
    _queue(tasks.send_password_reset_email, normalize_email(email))


def reset_password(*, token: str, password: str, request: HttpRequest | None = None) -> User:
    """Follow a reset link with a new password (Django's validators). Good once: the new
    password retires the link, and ends every earlier API sign-in (`User.save`). A lockout
    of the account ends too: whoever holds the link holds the address."""
    with transaction.atomic():
        user, _ = _locked_user_of(token, Purpose.RESET_PASSWORD)
        try:
            validate_password(password, user=user)
        except ValidationError as error:
            raise DomainError.invalid("password", list(error.messages)) from error
        user.set_password(password)
        user.save(update_fields=["password"])
        AxesProxyHandler.reset_attempts(username=user.email)
        account_changed.send(
            sender=User, request=request, user=user, change="password_reset", detail={}
        )
    return user


def ask_email_change(
    *, user: User, email: str, password: str, request: HttpRequest | None = None
) -> None:
    """Keep `email` as the login's pending address and send the link that applies it to
    that address. The password is asked again: a token left on a shared computer must not
    be enough to take the account over. A later request replaces an earlier one (and
    retires its link). Whether the new address is taken is only said to whoever follows
    the link (`verify_email`): this answer tells nobody which addresses have accounts."""
    new_email = normalize_email(email)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if not user.check_password(password):
            raise DomainError.invalid("password", ["This is not your current password."])
        if new_email == user.email:
            raise DomainError.invalid("email", ["This is already your address."])
        user.pending_email = new_email
        user.save(update_fields=["pending_email"])
        account_changed.send(
            sender=User,
            request=request,
            user=user,
            change="email_change_asked",
            detail={"to": new_email},
        )
        _queue(tasks.send_email_change_email, user.pk)


def _locked_user_of(token: str, *purposes: Purpose) -> tuple[User, Purpose]:
    """The login a link is for, locked, and which of `purposes` the link serves. The token
    is checked again once the row is locked: of two clicks at once, the second finds the
    state the first changed, and is refused."""
    for purpose in purposes:
        try:
            user = user_of(token, purpose)
        except BadLink:
            continue
        User.objects.select_for_update().filter(pk=user.pk).first()
        try:
            return user_of(token, purpose), purpose
        except BadLink:
            break
    raise DomainError("invalid_token", INVALID_TOKEN, fields={"token": [INVALID_TOKEN]})


def _queue(task, *args) -> None:
    transaction.on_commit(lambda: _send(task, *args))


def _send(task, *args) -> None:
    try:
        task.apply_async(args, retry=False)
    except Exception:  # a web request must not fail (or wait) on a broker that is down
        logger.warning("Could not queue %s", task.name)
