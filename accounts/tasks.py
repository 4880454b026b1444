"""Celery's entry points for accounts: thin, by id."""

from celery import shared_task

from . import mail


@shared_task(
    ignore_result=True,
    autoretry_for=(OSError,),  # SMTP down, refused connection, timeout
    retry_backoff=60,
    max_retries=5,
)
def send_registration_email(user_id: int, *, already_registered: bool) -> None:
    mail.send_registration_email(user_id=user_id, already_registered=already_registered)
