"""The emails accounts send of their own (not the clinic's messages to patients, which are
`notifications`'). Each link's token is made here, when the email is written by the
worker, so that no token travels through the broker."""

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from .emails import normalize_email
from .links import Purpose, lifetime, make_token
from .models import User


def site_link(route: str, token: str) -> str:
    """A link to the booking site's page `route` (its hash routes: `#/verify-email`...)."""
    return f"{settings.SITE_URL.rstrip('/')}/#/{route}?token={token}"


def _hours(purpose: Purpose) -> str:
    hours = lifetime(purpose).total_seconds() / 3600
    if hours < 1:
        return f"{round(hours * 60)} minutes"
    return f"{hours:g} hour{'s' if hours != 1 else ''}"


def send_registration_email(*, user_id: int, already_registered: bool) -> None:
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return
    sign_in_at = f"https://{settings.CLINIC_DOMAIN}/"
    if already_registered:
        subject = "Someone tried to register with your email address"
        body = (
            f"Someone, perhaps you, tried to register a new account with {user.email} at "
            f"{timezone.localtime():%d %B %Y, %H:%M}. This address already has an account, "
            "so nothing was created and nothing was changed.\n\n"
            f"If it was you, sign in as usual at {sign_in_at} (the clinic's front desk can "
            "help if you have forgotten your password). If it was not, you need do nothing."
        )
    else:
        subject = "Welcome to the clinic"
        link = site_link("verify-email", make_token(user, Purpose.VERIFY_EMAIL))
        body = (
            f"Your account for {user.email} is ready. Please confirm that this address is "
            f"yours by opening this link (it works for {_hours(Purpose.VERIFY_EMAIL)}):\n\n"
            f"{link}\n\n"
            "Until then you can sign in, fill in your intake questionnaire and manage your "
            "reminders, but not book.\n\n"
            "If you did not register, tell the clinic's front desk."
        )
    send_mail(subject, body, None, [user.email])


def send_verification_email(*, email: str) -> None:
    """The link again, to a login's address not verified yet; nothing if there is no such
    login or it is verified already (the requester was answered alike either way)."""
    user = User.objects.filter(
        email=normalize_email(email), is_active=True, email_verified_at=None
    ).first()
    if user is None:
        return
    link = site_link("verify-email", make_token(user, Purpose.VERIFY_EMAIL))
    body = (
        f"Please confirm that {user.email} is your address by opening this link (it works "
        f"for {_hours(Purpose.VERIFY_EMAIL)}):\n\n{link}\n\n"
        "If you did not ask for this, you need do nothing."
    )
    send_mail("Confirm your email address", body, None, [user.email])


def send_email_change_email(*, user_id: int) -> None:
    """The link that applies a pending address, to that address; and a word to the old
    one, so that its owner hears of a change they did not make."""
    user = User.objects.filter(pk=user_id, is_active=True).exclude(pending_email="").first()
    if user is None:
        return
    link = site_link("verify-email", make_token(user, Purpose.CHANGE_EMAIL))
    body = (
        f"To use {user.pending_email} for your clinic account instead of {user.email}, open "
        f"this link (it works for {_hours(Purpose.CHANGE_EMAIL)}):\n\n{link}\n\n"
        "Until then nothing changes. If you did not ask for this, you need do nothing."
    )
    send_mail("Confirm your new email address", body, None, [user.pending_email])
    notice = (
        f"Someone signed in to your clinic account asked to change its email address from "
        f"{user.email} to another one. Nothing changes unless the link sent to the new "
        "address is opened. If it was not you, change your password and tell the clinic's "
        "front desk."
    )
    send_mail("A change of your email address was asked for", notice, None, [user.email])


def send_password_reset_email(*, email: str) -> None:
    """A reset link to the login with this address; to an address without one, nothing
    (the requester was answered alike either way: `accounts.lifecycle`)."""
    user = User.objects.filter(email=normalize_email(email), is_active=True).first()
    if user is None:
        return
    link = site_link("reset-password", make_token(user, Purpose.RESET_PASSWORD))
    body = (
        f"Someone, perhaps you, asked to reset the password of the clinic account "
        f"{user.email}. To choose a new one, open this link (it works once, for "
        f"{_hours(Purpose.RESET_PASSWORD)}):\n\n{link}\n\n"
        "If it was not you, you need do nothing: your password stays as it is."
    )
    send_mail("Reset your password", body, None, [user.email])
