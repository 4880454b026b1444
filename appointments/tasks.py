"""Celery's entry points for appointments: thin."""

from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def end_expired_holds() -> int:
    """Beat's sweep of expired slot holds; safe to run twice (it deletes what has expired)."""
    return services.end_expired_holds()
