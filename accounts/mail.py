"""The emails accounts send of their own (not the clinic's messages to patients, which are
`notifications`')."""

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from .models import User


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
        body = (
            f"Your account for {user.email} is ready: sign in at {sign_in_at} to book, "
            "fill in your intake questionnaire and manage your reminders.\n\n"
            "If you did not register, tell the clinic's front desk."
        )
    send_mail(subject, body, None, [user.email])
