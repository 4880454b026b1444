"""Celery's entry points for the waitlist: thin."""

from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def end_expired_entries() -> int:
    """Beat's sweep of entries past their latest date; safe to run twice (it ends only
    open entries)."""
    return services.end_expired_entries()
