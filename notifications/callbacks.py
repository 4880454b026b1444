"""What comes back from the providers: how each message went, and the patients' replies.

Both are the services of the webhooks (`webhooks.py`), which believe a callback only once
its signature is checked. Providers send a callback more than once and out of order, so
each is idempotent by a unique key: a status is recorded only if it is further along than
the one recorded (`PROVIDER_STATUS_STAGE`), and a reply is a row keyed by the provider's
id of it, so the same reply delivered twice is acted on once.
"""

from __future__ import annotations

import re
from datetime import datetime

import phonenumbers
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from appointments.models import Appointment, ConfirmedVia
from appointments.services import cancel_appointment, confirm_appointment
from kernel.clock import save_at
from kernel.errors import DomainError
from patients.models import Channel, Patient
from patients.services import update_patient_profile

from .choices import DELIVERY_OF_PROVIDER_STATUS, PROVIDER_STATUS_STAGE, Kind, ReplyAction
from .models import Notification, Reply
from .providers import IncomingSms, StatusReport
from .services import mark_undeliverable
from .signals import offer_answered


def record_delivery(report: StatusReport, *, now: datetime | None = None) -> bool:
    """The provider's word on a message it took; whether it changed anything.

    A status not further along than the one recorded (a repeat, a late "sent" after
    "delivered") changes nothing; an unknown id (a message sent by something else) neither.
    A permanent failure marks the address undeliverable."""
    now = now or timezone.now()
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update().filter(provider_id=report.provider_id).first()
        )
        if notification is None:
            return False
        recorded = PROVIDER_STATUS_STAGE.get(notification.provider_status, 0)
        if PROVIDER_STATUS_STAGE[report.status] <= recorded:
            return False
        notification.provider_status = report.status
        notification.status = DELIVERY_OF_PROVIDER_STATUS[report.status]
        fields = ["provider_status", "status", "updated_at"]
        if report.error_code or report.detail:
            notification.provider_error = report.error_code
            notification.last_error = report.detail
            fields += ["provider_error", "last_error"]
        save_at(notification, now, update_fields=fields)
        if report.undeliverable:
            what = notification.get_provider_status_display().lower()
            mark_undeliverable(notification, f"{what} ({report.detail or 'no detail'})", now=now)
    return True


# --- replies -----------------------------------------------------------------------------

STOPPED_ANSWER = "You will get no more SMS from {clinic}. Reply START to have them again."
STARTED_ANSWER = "SMS from {clinic} are on again. Reply STOP to stop them."
ABOUT_AN_APPOINTMENT = (ReplyAction.CONFIRMED, ReplyAction.CANCELLED)


def keyword_of(body: str) -> str:
    """A reply as a keyword: its letters and digits, upper case ("Yes!" → "YES")."""
    return re.sub(r"[\W_]+", "", body).upper()


def action_of(body: str) -> str:
    word = keyword_of(body)
    for words, action in (
        (settings.SMS_CONFIRM_WORDS, ReplyAction.CONFIRMED),
        (settings.SMS_CANCEL_WORDS, ReplyAction.CANCELLED),
        (settings.SMS_STOP_WORDS, ReplyAction.STOPPED),
        (settings.SMS_START_WORDS, ReplyAction.STARTED),
    ):
        if word in {keyword_of(w) for w in words}:
            return action
    return ReplyAction.FOR_RECEPTION


def e164(number: str) -> str:
    """The sender's number as the register stores mobiles, or "" if it is no phone number
    (an alphanumeric sender)."""
    try:
        parsed = phonenumbers.parse(number, settings.PHONENUMBER_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(parsed):
        return ""
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def take_reply(incoming: IncomingSms, *, now: datetime | None = None) -> tuple[Reply, bool]:
    """Keep a patient's SMS and do what it says; whether it is new (a repeat does nothing).

    It is matched to the last message about an appointment sent to that number, so to its
    patient and appointment. Yes confirms the appointment, no cancels it (outside the
    cancellation window; inside it, reception is asked to call: never a silent late
    cancellation); a reply to a message about an appointment moved since is not taken as an
    answer about the new time, and goes to reception. STOP withdraws SMS consent at once,
    START gives it back, for every patient with the number. Anything else, or anything that
    cannot be done, waits in reception's inbox. One transaction: the reply's row, keyed by
    the provider's id, is written first, so a repeat delivered at the same moment waits for
    this one and then finds it."""
    now = now or timezone.now()
    number = e164(incoming.sender)
    last = (
        Notification.objects.filter(
            channel=Channel.SMS, recipient=number, appointment__isnull=False, sent_at__isnull=False
        )
        .select_related("patient", "appointment")
        .order_by("-sent_at", "-pk")
        .first()
        if number
        else None
    )
    offer = _last_offer_sent(number) if action_of(incoming.body) in ABOUT_AN_APPOINTMENT else None
    if offer is not None and (last is None or (offer.sent_at, offer.pk) > (last.sent_at, last.pk)):
        # Yes or no to the last message, which offered a freed time: the answer is to it.
        return _take_answer_to_offer(incoming, number, offer, now)
    holders = list(Patient.objects.filter(mobile=number)) if number else []
    patient = last.patient if last else (holders[0] if len(holders) == 1 else None)
    with transaction.atomic():
        reply, created = Reply.objects.get_or_create(
            provider_id=incoming.provider_id,
            defaults={
                "sender": number or incoming.sender,
                "body": incoming.body,
                "received_at": now,
                "patient": patient,
                "appointment": last.appointment if last else None,
                "in_reply_to": last,
                "action": action_of(incoming.body),
            },
        )
        if not created:
            return reply, False
        if reply.action in ABOUT_AN_APPOINTMENT:
            _answer_about_appointment(reply, last, now)
        elif reply.action in (ReplyAction.STOPPED, ReplyAction.STARTED):
            _follow_opt_out(reply, holders, now)
        reply.save(update_fields=["action", "outcome", "answer"])
    return reply, True


def _last_offer_sent(number: str) -> Notification | None:
    if not number:
        return None
    return (
        Notification.objects.filter(
            channel=Channel.SMS, recipient=number, kind=Kind.WAITLIST_OFFER, sent_at__isnull=False
        )
        .select_related("patient")
        .order_by("-sent_at", "-pk")
        .first()
    )


def _take_answer_to_offer(
    incoming: IncomingSms, number: str, offer: Notification, now: datetime
) -> tuple[Reply, bool]:
    """A yes or a no to an offer of a freed time: whoever sent the offer acts on it
    (`signals.offer_answered`); with no receiver, or one that does nothing, reception
    reads it."""
    with transaction.atomic():
        reply, created = Reply.objects.get_or_create(
            provider_id=incoming.provider_id,
            defaults={
                "sender": number,
                "body": incoming.body,
                "received_at": now,
                "patient": offer.patient,
                "in_reply_to": offer,
                "action": ReplyAction.FOR_RECEPTION,
            },
        )
        if not created:
            return reply, False
        accepted = action_of(incoming.body) == ReplyAction.CONFIRMED
        offer_answered.send(
            sender=Reply, reply=reply, notification=offer, accepted=accepted, now=now
        )
        reply.save(update_fields=["action", "outcome", "answer"])
    return reply, True


def _answer_about_appointment(reply: Reply, last: Notification | None, now: datetime) -> None:
    asked = reply.action
    reply.action = ReplyAction.FOR_RECEPTION  # unless it is done below
    if last is None or reply.appointment_id is None:
        reply.outcome = "No message about an appointment was sent to this number."
        return
    # Under its lock, so that a move at this moment is seen (the services lock it again).
    appointment = Appointment.objects.select_for_update().get(pk=reply.appointment_id)
    if appointment.rescheduled_at and appointment.rescheduled_at > last.sent_at:
        reply.outcome = (
            "The appointment was moved after the message this answers: "
            "check with the patient which time they mean."
        )
        return
    try:
        if asked == ReplyAction.CONFIRMED:
            confirm_appointment(appointment=appointment, via=ConfirmedVia.SMS_REPLY, now=now)
            reply.outcome = "Confirmed by the patient."
        else:
            cancel_appointment(
                appointment=appointment,
                by=None,
                reason=f"The patient replied {reply.body.strip()!r} by SMS.",
                online=True,
                now=now,
            )
            reply.outcome = "Cancelled by the patient."
    except DomainError as refusal:
        if refusal.code == "inside_cancellation_window":
            reply.action = ReplyAction.CALL_PATIENT
            reply.outcome = f"Not cancelled: {refusal.detail} Call the patient."
        else:
            reply.outcome = f"Not done: {refusal.detail}"
        return
    reply.action = asked


def _follow_opt_out(reply: Reply, holders: list[Patient], now: datetime) -> None:
    """STOP is about the number, so it holds for everyone who has it (a parent's mobile on
    a child's record too); through the one door to consents, so what is pending by SMS is
    withdrawn in this same transaction."""
    consent = reply.action == ReplyAction.STARTED
    changed = [
        update_patient_profile(patient=holder, changes={"consent_sms": consent}, now=now)
        for holder in holders
        if holder.consent_sms != consent
    ]
    names = ", ".join(str(patient) for patient in changed) or "nobody (no change)"
    reply.outcome = f"SMS consent {'given' if consent else 'withdrawn'}: {names}."
    answer = STARTED_ANSWER if consent else STOPPED_ANSWER
    reply.answer = answer.format(clinic=settings.CLINIC_NAME)


def mark_replies_handled(replies: QuerySet[Reply], *, by: User, now: datetime | None = None) -> int:
    """Reception has dealt with these replies (called the patient, read the message); how
    many were still waiting."""
    now = now or timezone.now()
    return replies.filter(handled_at__isnull=True).update(handled_at=now, handled_by=by)
