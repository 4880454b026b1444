"""Messages follow the diary: each change to an appointment schedules, re-times or withdraws
its messages in the change's own transaction (`appointments.signals`), and once it commits,
a dispatch is asked for so that a confirmation goes now rather than at beat's next minute.
Connected in `NotificationsConfig.ready`."""

from django.db import transaction
from django.dispatch import receiver

from appointments.signals import appointment_booked, appointment_cancelled, appointment_moved

from . import services
from .tasks import dispatch_soon


@receiver(appointment_booked, dispatch_uid="notifications.booked")
def schedule_booking_messages(sender, appointment, now, **kwargs) -> None:
    if services.booking_messages(appointment, now=now):
        transaction.on_commit(dispatch_soon)


@receiver(appointment_moved, dispatch_uid="notifications.moved")
def retime_messages(sender, appointment, now, **kwargs) -> None:
    if services.reschedule_messages(appointment, now=now):
        transaction.on_commit(dispatch_soon)


@receiver(appointment_cancelled, dispatch_uid="notifications.cancelled")
def withdraw_messages(sender, appointment, now, **kwargs) -> None:
    if services.cancellation_messages(appointment, now=now):
        transaction.on_commit(dispatch_soon)
