"""Signing in: the one path every password takes, for the API and the admin alike.

`sign_in` checks an account's password and, once its owner has enrolled, their two-factor
code. django-axes counts the failures (in the database, so every gunicorn worker sees the
same count) and refuses a locked-out account before its password is looked at. Axes alone
checks the count and records a failure in separate steps, so fifty guesses sent at once
would all pass the check before the first failure is written; `sign_in` therefore takes a
per-account PostgreSQL lock around check, password and record, and no more than
LOGIN_FAILURE_LIMIT guesses of one account ever reach the password check in a cool-off.

The audit entries for sign-ins are written by `audit.receivers`, from Django's, axes' and
`accounts.signals`' signals.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping

from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_login_failed
from django.db import connection, transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone

from kernel.errors import DomainError

from . import two_factor
from .emails import normalize_email
from .models import User
from .tasks import send_registration_email

# First half of the two-integer advisory lock key: "sign-in" locks, apart from any other
# advisory lock the project takes.
_SIGN_IN_LOCK_SPACE = 0x5349474E  # "SIGN"

logger = logging.getLogger(__name__)

WRONG_CREDENTIALS = "Wrong email, password or two-factor code, or an inactive account."


class SignInRefused(DomainError):
    """A sign-in refused; `code` says why:

    - `no_active_account` (401): wrong email, password or two-factor code, or an inactive
      account; one answer for all, so that it tells a guesser nothing;
    - `locked_out` (429): too many failures; `retry_after` is the seconds until it ends;
    - `two_factor_required` (403): the clinic requires staff to enrol first (in the admin).
    """

    def __init__(self, code: str, detail: str, *, retry_after: int | None = None):
        super().__init__(code, detail)
        self.retry_after = retry_after


def lockout_username(request: HttpRequest | None, credentials: Mapping | None) -> str | None:
    """The account an attempt is counted against (axes' AXES_USERNAME_CALLABLE): the email
    as stored, so that "Zoe@X.com" and "zoe@x.com " are one account's attempts."""
    typed = typed_username(credentials)
    if typed is None and request is not None:
        typed = request.POST.get("username") or request.POST.get("email")
    return normalize_email(typed) if typed else None


def typed_username(credentials: Mapping | None) -> str | None:
    """The email as the person typed it: the API sends `email`, the admin's form `username`."""
    if not credentials:
        return None
    typed = credentials.get(User.USERNAME_FIELD) or credentials.get("username")
    return str(typed) if typed else None


def sign_in(request: HttpRequest, *, email: str, password: str, code: str = "") -> User:
    """The user whose password (and, once enrolled, two-factor code) this is, or
    `SignInRefused`. Failures and lockouts are counted and audited even though it raises."""
    outcome = _attempt(request, email=email, password=password, code=code)
    if isinstance(outcome, SignInRefused):
        raise outcome
    return outcome


def sign_in_for_tokens(request: HttpRequest, *, email: str, password: str, code: str = "") -> User:
    """`sign_in` for API tokens. A member of staff the clinic requires to use two-factor
    sign-in gets no token before enrolling: the API must not be a way round the admin's
    second factor. (In the admin they are signed in and sent to enrol.)"""
    user = sign_in(request, email=email, password=password, code=code)
    if two_factor.missing_second_factor(user, verified=user.otp_device is not None):
        raise SignInRefused(
            "two_factor_required",
            "The clinic requires two-factor sign-in for staff: set it up in the admin first.",
        )
    return user


def _attempt(request: HttpRequest, *, email: str, password: str, code: str) -> User | SignInRefused:
    """One attempt in one transaction under the account's lock. It returns its refusal
    instead of raising it, so that the failure it recorded is committed, not rolled back."""
    account = normalize_email(email)
    with transaction.atomic():
        _one_attempt_at_a_time(account)
        user = authenticate(request, email=email, password=password)
        if user is not None and not two_factor.passes_second_factor(user, code):
            user_login_failed.send(
                sender=__name__,
                credentials={User.USERNAME_FIELD: email},
                request=request,
                reason="wrong_code",
            )
            user = None
        if user is None:
            if getattr(request, "axes_locked_out", False):
                return _locked_out(account)
            return SignInRefused("no_active_account", WRONG_CREDENTIALS)
        # A good sign-in clears the account's failures: a few typos spread over a day do
        # not add up to a lockout.
        AxesProxyHandler.reset_attempts(username=account)
        return user


def _one_attempt_at_a_time(account: str) -> None:
    """Hold the account's sign-in lock until the transaction ends."""
    digest = hashlib.blake2b(account.encode(), digest_size=4).digest()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)",
            [_SIGN_IN_LOCK_SPACE, int.from_bytes(digest, "big", signed=True)],
        )


def _locked_out(account: str) -> SignInRefused:
    retry_after = seconds_until_unlocked(account)
    minutes = -(-retry_after // 60)
    return SignInRefused(
        "locked_out",
        f"Too many failed sign-ins: this account is locked. Try again in {minutes} "
        f"minute{'s' if minutes != 1 else ''}.",
        retry_after=retry_after,
    )


def seconds_until_unlocked(account: str) -> int:
    """How long the account's lockout has to run (at least 1: it is locked now)."""
    last_failure = AccessAttempt.objects.filter(username=account).aggregate(
        last=Max("attempt_time")
    )["last"]
    if last_failure is None:
        return 1
    remaining = last_failure + settings.AXES_COOLOFF_TIME - timezone.now()
    return max(1, int(remaining.total_seconds() + 0.999))


def tell_of_registration(*, user_id: int, already_registered: bool) -> None:
    """Email the login's owner about a registration with their address, once the
    transaction commits: a welcome for a new account; for an address that already had
    one, that someone tried to register with it (the only place that says so). Sent by
    a worker, so that both answers to the registrant take as long."""
    transaction.on_commit(lambda: _queue_registration_email(user_id, already_registered))


def _queue_registration_email(user_id: int, already_registered: bool) -> None:
    try:
        send_registration_email.apply_async(
            (user_id,), {"already_registered": already_registered}, retry=False
        )
    except Exception:  # a web request must not fail (or wait) on a broker that is down
        logger.warning("Could not queue the registration email of login %s", user_id)
