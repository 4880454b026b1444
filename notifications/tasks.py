"""Celery's entry points: thin, by id, safe to run twice.

A failed send is not retried by Celery (that would park a task in the broker); `deliver`
puts the message back in the table with a pause, and the next scan claims it again.
"""

import contextlib

from celery import shared_task
from django.conf import settings

from . import services


@shared_task(ignore_result=True)
def dispatch_due() -> int:
    """Beat, every minute: claim due messages and hand them to send tasks, a few per task
    (a task per message would cost more in the broker than the sending itself). A full
    claim may have left more due: the next scan starts now rather than a minute later."""
    ids = services.claim_due()
    size = settings.NOTIFICATIONS_SEND_BATCH
    for start in range(0, len(ids), size):
        send_notifications.delay(ids[start : start + size])
    if len(ids) == settings.NOTIFICATIONS_CLAIM_BATCH:
        dispatch_soon()
    return len(ids)


def dispatch_soon() -> None:
    """Due-now messages need not wait for beat's next minute. A web request must not wait
    on a broker that is down, either: if this fails, beat's scan catches up."""
    with contextlib.suppress(Exception):
        dispatch_due.apply_async(retry=False)


@shared_task(ignore_result=True)
def send_notifications(notification_ids: list[int]) -> dict[int, str]:
    return services.deliver_batch(notification_ids)


@shared_task(ignore_result=True)
def plan_patient_prompts() -> int:
    """Beat, hourly: maintenance-visit prompts and recalls that have come due."""
    added = services.patient_prompts()
    if added:
        dispatch_soon()
    return added
