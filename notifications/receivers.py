"""Messages follow the diary: each change to an appointment schedules, re-times or withdraws
its messages in the change's own transaction (`appointments.signals`), and once it commits,
a dispatch is asked for so that a confirmation goes now rather than at beat's next minute:
one per transaction, however many appointments it changes (the demo books hundreds in one).
And they follow the patient's consents (`patients.signals`): a channel agreed to gets the
reminders of the upcoming bookings, one withdrawn loses what is pending on it. Connected in
`NotificationsConfig.ready`. And they follow what the email service says of them (anymail's
`tracking` signal, sent by its webhook view once the callback is authenticated)."""

from anymail.signals import tracking
from django.db import transaction
from django.dispatch import receiver

from appointments.signals import (
    appointment_booked,
    appointment_cancelled,
    appointment_moved,
    course_booked,
    course_visits_cancelled,
)
from patients.signals import consents_changed

from . import callbacks, services
from .choices import Kind
from .providers import status_of_email_event
from .tasks import dispatch_soon


@receiver(appointment_booked, dispatch_uid="notifications.booked")
def schedule_booking_messages(sender, appointment, now, **kwargs) -> None:
    if services.booking_messages(appointment, now=now):
        _dispatch_after_commit()


@receiver(course_booked, dispatch_uid="notifications.course_booked")
def confirm_course(sender, course, appointments, now, **kwargs) -> None:
    if services.course_messages(appointments, kind=Kind.COURSE_CONFIRMATION, now=now):
        _dispatch_after_commit()


@receiver(course_visits_cancelled, dispatch_uid="notifications.course_cancelled")
def tell_of_cancelled_visits(sender, course, appointments, now, **kwargs) -> None:
    if services.course_messages(appointments, kind=Kind.COURSE_CANCELLED, now=now):
        _dispatch_after_commit()


@receiver(appointment_moved, dispatch_uid="notifications.moved")
def retime_messages(sender, appointment, now, **kwargs) -> None:
    if services.reschedule_messages(appointment, now=now):
        _dispatch_after_commit()


@receiver(appointment_cancelled, dispatch_uid="notifications.cancelled")
def withdraw_messages(sender, appointment, now, in_course_change=False, **kwargs) -> None:
    if services.cancellation_messages(appointment, now=now, notice=not in_course_change):
        _dispatch_after_commit()


@receiver(consents_changed, dispatch_uid="notifications.consents")
def follow_consents(sender, patient, now, **kwargs) -> None:
    # Nothing to dispatch: the reminders it schedules are all still ahead.
    services.consent_messages(patient, now=now)


@receiver(tracking, dispatch_uid="notifications.email_tracking")
def follow_email_events(sender, event, esp_name, **kwargs) -> None:
    if report := status_of_email_event(event):
        callbacks.record_delivery(report)


def _dispatch_after_commit() -> None:
    # Django keeps the callbacks of the open transaction in `run_on_commit` as
    # (savepoints, callback, robust); outside a transaction on_commit runs at once.
    pending = transaction.get_connection().run_on_commit
    if not any(callback is dispatch_soon for _, callback, _ in pending):
        transaction.on_commit(dispatch_soon)
