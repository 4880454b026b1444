"""Celery's entry points for accounts: thin, by id (or by the address asked about)."""

from celery import shared_task

from . import mail

_SENDS = {
    "ignore_result": True,
    "autoretry_for": (OSError,),  # SMTP down, refused connection, timeout
    "retry_backoff": 60,
    "max_retries": 5,
}


@shared_task(**_SENDS)
def send_registration_email(user_id: int, *, already_registered: bool) -> None:
    mail.send_registration_email(user_id=user_id, already_registered=already_registered)


@shared_task(**_SENDS)
def send_verification_email(email: str) -> None:
    mail.send_verification_email(email=email)


@shared_task(**_SENDS)
def send_email_change_email(user_id: int) -> None:
    mail.send_email_change_email(user_id=user_id)


@shared_task(**_SENDS)
def send_password_reset_email(email: str) -> None:
    mail.send_password_reset_email(email=email)
