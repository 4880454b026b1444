"""Celery's entry points: thin, by id, safe to run twice.

A failed send is not retried by Celery (that would park a task in the broker); `deliver`
puts the message back in the table with a pause, and the next scan claims it again.
"""

from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def dispatch_due() -> int:
    """Beat, every minute: claim due messages and hand each to a send task."""
    ids = services.claim_due()
    for notification_id in ids:
        send_notification.delay(notification_id)
    return len(ids)


@shared_task(ignore_result=True)
def send_notification(notification_id: int) -> str:
    return services.deliver(notification_id)


@shared_task(ignore_result=True)
def plan_patient_prompts() -> int:
    """Beat, hourly: maintenance-visit prompts and recalls that have come due."""
    return services.patient_prompts()
