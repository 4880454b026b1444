"""The waitlist follows the diary: time a change frees is noted in the change's own
transaction (`offers.record_freed_time`), so it is offered if and only if the change
committed. (A booking by staff over an offered time ends the offer's hold in its own
transaction, and a released hold ends the same way: the offer's link says the time is
taken at once, and `offers.sweep_offers` marks the offer withdrawn.) And it hears the
patients' SMS answers to offers (`notifications.signals.offer_answered`). Connected in
`WaitlistConfig.ready`: the apps below announce, they do not know the waitlist."""

from datetime import timedelta

from django.conf import settings
from django.dispatch import receiver

from appointments.signals import (
    appointment_cancelled,
    appointment_moved,
    working_time_changed,
)
from kernel.errors import DomainError
from notifications.choices import ReplyAction
from notifications.signals import offer_answered

from . import offers


@receiver(appointment_cancelled, dispatch_uid="waitlist.cancelled")
def offer_cancelled_time(sender, appointment, now, **kwargs) -> None:
    offers.record_freed_time(
        practitioner_id=appointment.practitioner_id,
        location_id=appointment.location_id,
        start=appointment.start,
        end=appointment.blocked_until,
    )


@receiver(appointment_moved, dispatch_uid="waitlist.moved")
def offer_time_moved_from(sender, appointment, now, moved_from=None, **kwargs) -> None:
    if moved_from is not None:
        offers.record_freed_time(
            practitioner_id=moved_from.practitioner_id,
            location_id=moved_from.location_id,
            start=moved_from.start,
            end=moved_from.blocked_until,
        )


@receiver(working_time_changed, dispatch_uid="waitlist.working_time")
def offer_changed_working_time(sender, practitioner_ids, now, **kwargs) -> None:
    # Hours added or leave removed free time somewhere ahead: the next weeks are searched.
    until = now + timedelta(days=settings.WAITLIST_SCAN_DAYS)
    for practitioner_id in practitioner_ids:
        offers.record_freed_time(
            practitioner_id=practitioner_id, location_id=None, start=now, end=until
        )


@receiver(offer_answered, dispatch_uid="waitlist.offer_answered")
def take_answer_to_offer(sender, reply, notification, accepted, now, **kwargs) -> None:
    offer = offers.offer_of_message(notification)
    if offer is None:
        reply.outcome = "The offer this answers is not on file."
        return
    try:
        if accepted:
            appointment = offers.accept_offer(offer=offer, now=now)
            reply.action = ReplyAction.OFFER_TAKEN
            reply.outcome = f"Took the offer: booked #{appointment.pk}."
            reply.answer = (
                f"Booked: {offer.service} on "
                f"{appointment.local_start:%A %d %B at %H:%M}, {offer.location}. See you then."
            )
        else:
            offers.decline_offer(offer=offer, now=now)
            reply.action = ReplyAction.OFFER_DECLINED
            reply.outcome = "Declined the offer; still on the waitlist."
            reply.answer = "Thanks, we will keep you on the waitlist."
    except DomainError as refusal:
        # Nothing for reception to do: the patient is told, and stays on the list.
        reply.action = ReplyAction.OFFER_TAKEN if accepted else ReplyAction.OFFER_DECLINED
        reply.outcome = f"Not done ({refusal.code}): {refusal.detail}"
        reply.answer = refusal.detail
