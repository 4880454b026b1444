"""Every sign-in, failed sign-in and lockout goes into the audit log, with the address it
came from. Never the password: Django hands receivers the credentials with it masked, and
only the email is kept.

Sessions (the admin) announce a sign-in with Django's `user_logged_in`; what sends no signal
of its own (the API's token view, a second factor enrolled) announces itself through
`accounts.signals`. Connected in `AuditConfig.ready`.
"""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from accounts.emails import normalize_email
from accounts.models import User
from accounts.services import typed_username
from accounts.signals import account_changed, second_factor_enrolled, signed_in_for_tokens

from .models import Action
from .services import record


@receiver(user_logged_in, dispatch_uid="audit.sign_in")
def audit_sign_in(sender, request, user, **kwargs) -> None:
    record(Action.LOGIN, request=request, actor=user, detail={"via": "session"})


@receiver(signed_in_for_tokens, dispatch_uid="audit.token_sign_in")
def audit_token_sign_in(sender, request, user, **kwargs) -> None:
    record(Action.LOGIN, request=request, actor=user, detail={"via": "api"})


@receiver(second_factor_enrolled, dispatch_uid="audit.second_factor_enrolled")
def audit_second_factor_enrolled(sender, request, user, **kwargs) -> None:
    record(Action.UPDATE, request=request, obj=user, detail={"two_factor": "enrolled"})


@receiver(account_changed, dispatch_uid="audit.account_changed")
def audit_account_changed(sender, request, user, change, detail, **kwargs) -> None:
    """An address verified or changed, a change asked for, a password reset by link: by
    the login's owner (the link's holder), from where they were."""
    record(
        Action.UPDATE, request=request, actor=user, obj=user, detail={"account": change, **detail}
    )


@receiver(user_login_failed, dispatch_uid="audit.failed_sign_in")
def audit_failed_sign_in(sender, credentials, request=None, **kwargs) -> None:
    if _refused_while_locked_out(request):
        return  # not a guess that was checked: audit_lockout records the refusal
    typed = typed_username(credentials) or ""
    record(
        Action.LOGIN_FAILED,
        request=request,
        actor=_account(typed),
        actor_label=typed,
        detail={"reason": kwargs.get("reason", "wrong_password_or_account")},
    )


@receiver(user_locked_out, dispatch_uid="audit.lockout")
def audit_lockout(sender, request, username, **kwargs) -> None:
    """Sent by axes when a failure locks an account, and again for each attempt refused
    because it is locked; the first carries the count that locked it."""
    failures = getattr(request, "axes_failures_since_start", None)
    credentials = getattr(request, "axes_credentials", None)
    typed = typed_username(credentials) or username or ""
    record(
        Action.LOCKOUT,
        request=request,
        actor=_account(username or ""),
        actor_label=typed,
        detail={"event": "refused"}
        if failures is None
        else {"event": "locked", "failures": failures},
    )


def _refused_while_locked_out(request) -> bool:
    """Axes refused the attempt before its password was checked. Its backend marks the
    request locked before the failure signal; a failure that *causes* a lockout is marked
    only while axes counts it, together with the count, whichever receiver runs first."""
    return bool(getattr(request, "axes_locked_out", False)) and (
        getattr(request, "axes_failures_since_start", None) is None
    )


def _account(typed: str) -> User | None:
    """The login the email names, if any (a guess at an unknown address has no actor)."""
    if not typed.strip():
        return None
    return User.objects.filter(email=normalize_email(typed)).first()
