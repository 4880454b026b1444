"""Which messages are due, and sending each one once.

Booking, rescheduling and cancelling call the `*_messages` functions inside their own
transaction, so the due rows appear, move or are withdrawn with the appointment itself.
Beat's scan claims due rows (`claim_due`) and send tasks deliver them by id (`deliver`):
the row is locked, the reason re-checked (still booked? still consenting? quiet hours?),
the message sent and the row marked sent in one transaction. With the outbox backend the
message itself is a row of that transaction, so a send is never lost nor doubled, even
when a worker is killed mid-send; with SMTP or an SMS provider a kill between the provider's
answer and the commit can repeat a message, which the Message-ID / reference lets the
receiving side recognise.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.template import Template
from django.utils import timezone

from appointments.models import OCCUPYING_STATUSES, Appointment, Status
from kernel.clock import save_at
from patients.models import Channel, Patient
from treatments.models import Phase, PlanStatus, TreatmentPlan

from .backends import PermanentDeliveryError, TransientDeliveryError, backend_for
from .models import Delivery, Kind, MessageTemplate, MessagingSettings, Notification
from .wording import check_template, context_of, render_message

APPOINTMENT_KINDS_WITHDRAWN_ON_CANCEL = (
    Kind.CONFIRMATION,
    Kind.REMINDER,
    Kind.RESCHEDULED,
    Kind.COURSE_CONFIRMATION,
)
MAX_ATTEMPTS = 8
CONSENT_WITHDRAWN = "The patient withdrew consent to this channel."


def retry_pause(attempts: int) -> timedelta:
    """1, 2, 4 ... minutes after each failed try, at most an hour."""
    return timedelta(minutes=min(2 ** (attempts - 1), 60))


def consented_channels(patient: Patient) -> list[str]:
    """The channels the patient agreed to and can be reached on."""
    channels = []
    if patient.consent_email and patient.email:
        channels.append(Channel.EMAIL)
    if patient.consent_sms and patient.mobile:
        channels.append(Channel.SMS)
    return channels


# --- scheduling, in the appointment's own transaction ----------------------------------


def booking_messages(appointment: Appointment, *, now: datetime | None = None) -> bool:
    """A confirmation now and the reminders before the start, on each consented channel.
    Whether any were added (and so may be due now). A visit of a course gets its reminders
    only: the course's one confirmation tells of them all (`course_messages`)."""
    now = now or timezone.now()
    if appointment.course_id is not None:
        return _add(_reminders(appointment, now))
    return _add(messages_of_booking(appointment, booked_at=now))


def course_messages(
    appointments: list[Appointment], *, kind: str, now: datetime | None = None
) -> bool:
    """One message of a course's `kind` for its visits changed together (`appointments`:
    booked in one step, or cancelled together), about the first of them and listing them
    all, on each consented channel."""
    now = now or timezone.now()
    first = min(appointments, key=lambda appointment: appointment.start)
    # A course is booked once; its visits may be cancelled together more than once.
    moment = "" if kind == Kind.COURSE_CONFIRMATION else f":{int(now.timestamp())}"
    return _add(
        [
            Notification(
                kind=kind,
                channel=channel,
                patient_id=first.patient_id,
                appointment=first,
                reason_key=f"course:{first.course_id}:{kind}{moment}:{channel}",
                due_at=now,
            )
            for channel in consented_channels(first.patient)
        ]
    )


def messages_of_booking(
    appointment: Appointment, *, booked_at: datetime, offsets_hours: Iterable[int] | None = None
) -> list[Notification]:
    """The (unsaved) messages a booking made at `booked_at` calls for."""
    return notices(appointment, Kind.CONFIRMATION, at=booked_at) + _reminders(
        appointment, booked_at, offsets_hours
    )


def reschedule_messages(appointment: Appointment, *, now: datetime | None = None) -> bool:
    """Reminders follow the appointment to its new time; the patient is told."""
    now = now or timezone.now()
    _withdraw(appointment, kinds=(Kind.REMINDER,), now=now)
    return _add(notices(appointment, Kind.RESCHEDULED, at=now) + _reminders(appointment, now))


def cancellation_messages(
    appointment: Appointment, *, now: datetime | None = None, notice: bool = True
) -> bool:
    """Nothing more about this appointment is sent except the cancellation notice (none
    when `notice` is False: the course's visits cancelled together get one between them,
    `course_cancellation_messages`)."""
    now = now or timezone.now()
    _withdraw(appointment, kinds=APPOINTMENT_KINDS_WITHDRAWN_ON_CANCEL, now=now)
    return notice and _add(notices(appointment, Kind.CANCELLED, at=now))


def notices(appointment: Appointment, kind: str, *, at: datetime) -> list[Notification]:
    """One (unsaved) message of `kind` about the appointment, due `at`, on each channel
    the patient agreed to."""
    return [
        _appointment_message(appointment, kind, channel, due_at=at)
        for channel in consented_channels(appointment.patient)
    ]


def consent_messages(patient: Patient, *, now: datetime | None = None) -> None:
    """The messages of the patient's upcoming bookings follow their consents, whichever door
    changed them (`patients.signals.consents_changed`, in the change's transaction).

    On each channel they no longer agree to, whatever is still pending is withdrawn. On each
    channel they agree to, every booked appointment gets the reminders still ahead of it,
    exactly once: the rows are the ones a booking writes (same reason keys), so a reminder
    already there stays as it is, and one withdrawn with an earlier consent comes back
    rather than being written twice (a withdrawn message was never sent). A booking's
    confirmation is not sent late: it told of the booking when it was made (see the
    README's "Messages to patients" for the rule).
    """
    now = now or timezone.now()
    agreed = consented_channels(patient)
    Notification.objects.filter(
        patient=patient, status=Delivery.PENDING, channel__in=set(Channel.values) - set(agreed)
    ).update(status=Delivery.WITHDRAWN, last_error=CONSENT_WITHDRAWN, updated_at=now)
    if not agreed:
        return
    offsets = MessagingSettings.current().reminder_offsets_hours
    upcoming = Appointment.objects.filter(patient=patient, status=Status.BOOKED, start__gt=now)
    rows = [
        row
        for appointment in upcoming.select_related("patient")
        for row in _reminders(appointment, now, offsets)
    ]
    _add(rows)
    Notification.objects.filter(
        reason_key__in=[row.reason_key for row in rows], status=Delivery.WITHDRAWN
    ).update(status=Delivery.PENDING, last_error="", updated_at=now)


def _reminders(
    appointment: Appointment, now: datetime, offsets_hours: Iterable[int] | None = None
) -> list[Notification]:
    if offsets_hours is None:
        offsets_hours = MessagingSettings.current().reminder_offsets_hours
    rows = []
    for hours in offsets_hours:
        due = appointment.start.astimezone(UTC) - timedelta(hours=hours)  # real hours
        if due <= now:
            continue
        for channel in consented_channels(appointment.patient):
            rows.append(
                _appointment_message(
                    appointment, Kind.REMINDER, channel, due_at=due, part=f"{hours}h"
                )
            )
    return rows


def _appointment_message(
    appointment: Appointment, kind: str, channel: str, *, due_at: datetime, part: str = ""
) -> Notification:
    # The start is part of the key: a reminder for the new time after a move is a new
    # reason, while asking twice for the same one is not.
    key = (
        f"appointment:{appointment.pk}:{kind}:{part}:{int(appointment.start.timestamp())}:{channel}"
    )
    return Notification(
        kind=kind,
        channel=channel,
        patient_id=appointment.patient_id,
        appointment=appointment,
        reason_key=key,
        due_at=due_at,
    )


def _withdraw(appointment: Appointment, *, kinds: Iterable[str], now: datetime) -> None:
    Notification.objects.filter(
        appointment=appointment, kind__in=list(kinds), status=Delivery.PENDING
    ).update(status=Delivery.WITHDRAWN, updated_at=now)


def _add(rows: list[Notification]) -> bool:
    """Whether there was anything to add (a row already there is left as it is)."""
    if rows:
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return bool(rows)


# --- maintenance prompts and recalls ----------------------------------------------------


def patient_prompts(now: datetime | None = None) -> int:
    """Due maintenance-visit prompts and recalls, once per interval and gap. Returns how
    many new ones were added."""
    now = now or timezone.now()
    rules = MessagingSettings.current()
    future = Appointment.objects.filter(
        patient=OuterRef("pk"), status__in=OCCUPYING_STATUSES, start__gt=now
    )
    in_maintenance = TreatmentPlan.objects.filter(
        patient=OuterRef("pk"), status=PlanStatus.ACTIVE, current_phase=Phase.MAINTAIN
    )
    patients = (
        Patient.objects.filter(is_active=True)
        .filter(Q(consent_email=True) | Q(consent_sms=True))
        .annotate(
            last_visit=Max("appointments__start", filter=Q(appointments__status=Status.COMPLETED)),
            has_future=Exists(future),
            maintaining=Exists(in_maintenance),
        )
        .filter(last_visit__isnull=False, has_future=False)
    )
    intervals = dict(
        TreatmentPlan.objects.filter(
            status=PlanStatus.ACTIVE, current_phase=Phase.MAINTAIN
        ).values_list("patient_id", "maintenance_interval_weeks")
    )
    rows = []
    for patient in patients:
        weeks_since = (now - patient.last_visit).days // 7
        if patient.maintaining and rules.maintenance_prompts:
            interval = intervals[patient.pk]
            if weeks_since >= interval:
                period = weeks_since // interval
                rows += _patient_messages(
                    patient, Kind.MAINTENANCE_PROMPT, f"{patient.last_visit:%Y%m%d}:{period}", now
                )
        elif not patient.maintaining and rules.recalls and weeks_since >= rules.recall_after_weeks:
            rows += _patient_messages(patient, Kind.RECALL, f"{patient.last_visit:%Y%m%d}", now)
    # Only reasons not yet recorded (one lookup on the unique key, not a table count).
    known = set(
        Notification.objects.filter(reason_key__in=[r.reason_key for r in rows]).values_list(
            "reason_key", flat=True
        )
    )
    new = [row for row in rows if row.reason_key not in known]
    _add(new)
    return len(new)


def _patient_messages(patient: Patient, kind: str, period: str, now: datetime):
    return [
        Notification(
            kind=kind,
            channel=channel,
            patient=patient,
            reason_key=f"patient:{patient.pk}:{kind}:{period}:{channel}",
            due_at=now,
        )
        for channel in consented_channels(patient)
    ]


# --- claiming and delivering ------------------------------------------------------------


def claim_due(*, limit: int | None = None, now: datetime | None = None) -> list[int]:
    """Mark up to `limit` (NOTIFICATIONS_CLAIM_BATCH) due messages as being sent and return
    their ids, earliest due first.

    SKIP LOCKED lets two scans run at once without claiming the same row. Messages a dead
    worker left half-sent are claimed again once their claim is stale. One statement: the
    UPDATE claims what its CTE picks, so no list of ids travels to PostgreSQL and back. The
    pick is a MATERIALIZED CTE, run once: as `WHERE id IN (subquery)` a nested-loop plan ran
    it again for each row updated, each run picking rows the earlier ones had just claimed
    away, and claimed past the limit (`tests/notifications/test_claim_limit.py`).
    """
    now = now or timezone.now()
    limit = limit or settings.NOTIFICATIONS_CLAIM_BATCH
    stale = now - timedelta(seconds=settings.NOTIFICATIONS_STALE_CLAIM_SECONDS)
    due = (
        Notification.objects.select_for_update(skip_locked=True)
        .filter(
            Q(status=Delivery.PENDING, due_at__lte=now)
            | Q(status=Delivery.SENDING, claimed_at__lt=stale)
        )
        .order_by("due_at")
        .values("pk")[:limit]
    )
    table = Notification._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        picked, params = due.query.sql_with_params()  # FOR UPDATE compiles in a transaction
        cursor.execute(
            f"WITH picked (id) AS MATERIALIZED ({picked}) "
            f"UPDATE {table} SET status = %s, claimed_at = %s, updated_at = %s "
            f"FROM picked WHERE {table}.id = picked.id RETURNING {table}.id, {table}.due_at",
            [*params, Delivery.SENDING, now, now],
        )
        claimed = cursor.fetchall()
    return [pk for pk, _ in sorted(claimed, key=lambda row: (row[1], row[0]))]


def deliver(notification_id: int, *, now: datetime | None = None) -> str:
    """Send one claimed message, at most once. Returns what happened (for the log)."""
    return deliver_batch([notification_id], now=now)[notification_id]


def deliver_batch(
    notification_ids: Sequence[int], *, now: datetime | None = None
) -> dict[int, str]:
    """Send claimed messages, each in a transaction of its own, and say what became of each.
    Each message is sent at `now` if given, else at the clock's time when its turn comes.

    The batch shares one read of its rows, the templates and the messaging rules; each
    message is then locked and its reason re-checked against fresh state before it is sent,
    so a batch is as safe as single sends: a failure, or a worker killed mid-batch, costs
    at most the message in hand. Should the task run out of time, the messages not yet
    tried go back to the queue at once rather than waiting for their claim to go stale.
    """
    rows = Notification.objects.select_related(
        "patient",
        "appointment__service",
        "appointment__location",
        "appointment__practitioner__user",
    ).in_bulk(notification_ids)
    batch = SendBatch(MessagingSettings.current())
    outcomes: dict[int, str] = {}
    try:
        for pk in notification_ids:
            row = rows.get(pk)
            outcomes[pk] = (
                _deliver_claimed(row, batch, now or timezone.now()) if row else "not claimed"
            )
    except SoftTimeLimitExceeded:
        untried = [pk for pk in notification_ids if pk not in outcomes]
        Notification.objects.filter(pk__in=untried, status=Delivery.SENDING).update(
            status=Delivery.PENDING, updated_at=now or timezone.now()
        )
        raise
    return outcomes


class SendBatch:
    """What every message of a batch shares: the rules, and templates compiled once."""

    def __init__(self, rules: MessagingSettings) -> None:
        self.rules = rules
        self._templates: dict[tuple[str, str], tuple[Template, Template]] = {}

    def templates_for(self, notification: Notification) -> tuple[Template, Template]:
        key = (notification.kind, notification.channel)
        if key not in self._templates:
            template = MessageTemplate.objects.filter(kind=key[0], channel=key[1]).first()
            if template is None:
                raise PermanentDeliveryError(
                    f"No {notification.get_channel_display()} template for {notification.kind}."
                )
            # Checked again here: a row written before the check, or by raw SQL, is refused
            # rather than rendered.
            try:
                self._templates[key] = (
                    check_template(template.subject, kind=template.kind),
                    check_template(template.body, kind=template.kind),
                )
            except ValidationError as error:
                raise PermanentDeliveryError(
                    f"The {template} template is refused: {' '.join(error.messages)}"
                ) from error
        return self._templates[key]


# Raw SQL because it runs once per message: compiling the ORM's version of this query took
# longer than the database's work on it.
LOCK_FOR_SENDING = f"""
    SELECT n.attempts, a.status, a.start, p.consent_email, p.consent_sms, p.email, p.mobile,
           p.email_undeliverable, p.mobile_undeliverable
    FROM {Notification._meta.db_table} n
    JOIN {Patient._meta.db_table} p ON p.id = n.patient_id
    LEFT JOIN {Appointment._meta.db_table} a ON a.id = n.appointment_id
    WHERE n.id = %s AND n.status = '{Delivery.SENDING}'
    FOR UPDATE OF n
"""


def _lock_for_sending(notification: Notification) -> bool:
    """Lock the row if it is still ours to send, and bring what decides the send up to date:
    the attempts, the appointment's status and time, the patient's consent and contacts
    (the batch's copy may be a moment old)."""
    with connection.cursor() as cursor:
        cursor.execute(LOCK_FOR_SENDING, [notification.pk])
        fresh = cursor.fetchone()
    if fresh is None:
        return False  # sent, withdrawn or deferred meanwhile
    patient, appointment = notification.patient, notification.appointment
    (notification.attempts, status, start, patient.consent_email, patient.consent_sms) = fresh[:5]
    patient.email, patient.mobile, patient.email_undeliverable, patient.mobile_undeliverable = (
        fresh[5:]
    )
    if appointment is not None:
        appointment.status, appointment.start = status, start
    return True


def _deliver_claimed(notification: Notification, batch: SendBatch, now: datetime) -> str:
    with transaction.atomic():
        if not _lock_for_sending(notification):
            return "not claimed"
        notification.attempts += 1
        if reason := _no_longer_wanted(notification, now):
            _close(notification, Delivery.WITHDRAWN, reason, now)
            return "withdrawn"
        if notification.channel not in consented_channels(notification.patient):
            _close(notification, Delivery.SKIPPED, "No consent for this channel.", now)
            return "skipped"
        if reason := undeliverable_reason(notification.patient, notification.channel):
            _close(notification, Delivery.UNREACHABLE, reason, now)
            return "unreachable"
        allowed = next_allowed_time(now, _zone_of(notification), batch.rules)
        if allowed > now:
            notification.status = Delivery.PENDING
            notification.due_at = allowed
            save_at(notification, now, update_fields=["status", "due_at", "attempts", "updated_at"])
            return "deferred"
        try:
            render(notification, batch)
            with transaction.atomic():  # an outbox row is undone with a failed send
                backend_for(notification.channel).send(notification)
        except PermanentDeliveryError as error:
            notification.provider_error = error.code
            _close(notification, Delivery.FAILED, str(error), now, also=["provider_error"])
            if error.undeliverable:
                mark_undeliverable(notification, str(error), now=now)
            return "failed"
        except TransientDeliveryError as error:
            if notification.attempts >= MAX_ATTEMPTS:
                _close(
                    notification,
                    Delivery.FAILED,
                    f"Gave up after {MAX_ATTEMPTS} tries: {error}",
                    now,
                )
                return "failed"
            # Back to the queue with a growing pause; the scan picks it up again.
            notification.status = Delivery.PENDING
            notification.due_at = now + retry_pause(notification.attempts)
            notification.last_error = str(error)
            save_at(
                notification,
                now,
                update_fields=["status", "due_at", "attempts", "last_error", "updated_at"],
            )
            return "retry"
        notification.status = Delivery.SENT
        notification.sent_at = now
        save_at(
            notification,
            now,
            update_fields=[
                "status",
                "sent_at",
                "attempts",
                "recipient",
                "subject",
                "body",
                "provider_id",
                "provider_status",
                "updated_at",
            ],
        )
    return "sent"


def _close(
    notification: Notification,
    status: str,
    reason: str,
    now: datetime,
    also: Sequence[str] = (),
) -> None:
    notification.status = status
    notification.last_error = reason
    save_at(
        notification,
        now,
        update_fields=["status", "last_error", "attempts", "updated_at", *also],
    )


# The mark on the patient that says an address of theirs takes no more messages.
UNDELIVERABLE_MARK = {Channel.EMAIL: "email_undeliverable", Channel.SMS: "mobile_undeliverable"}
ADDRESS_OF_CHANNEL = {Channel.EMAIL: "email", Channel.SMS: "mobile"}


def undeliverable_reason(patient: Patient, channel: str) -> str:
    """Why the patient's address on `channel` takes no messages (a bounce, a dead number),
    or "" if it does. Reception sees it on the patient's page and on each message it stops."""
    mark = getattr(patient, UNDELIVERABLE_MARK[channel])
    return f"Not sent: {mark} Correct the address on the patient's page." if mark else ""


def mark_undeliverable(notification: Notification, reason: str, *, now: datetime) -> None:
    """Nothing more goes to the address this message went to, until the patient's address
    is changed (`patients.services.update_patient_profile` clears the mark). Only if it is
    still their address: a late bounce from an old one says nothing of the new one."""
    local = now.astimezone(ZoneInfo(settings.TIME_ZONE))
    Patient.objects.filter(
        pk=notification.patient_id,
        **{ADDRESS_OF_CHANNEL[notification.channel]: notification.recipient},
    ).update(**{UNDELIVERABLE_MARK[notification.channel]: f"{local:%d/%m/%Y}: {reason}."})


def _no_longer_wanted(notification: Notification, now: datetime) -> str:
    appointment = notification.appointment
    if appointment is None:
        return ""
    if notification.kind == Kind.REMINDER and appointment.status != Status.BOOKED:
        return "The appointment is no longer booked."
    if notification.kind == Kind.REMINDER and appointment.start <= now:
        return "The appointment has started."
    return ""


def _zone_of(notification: Notification) -> ZoneInfo:
    if notification.appointment is not None:
        return notification.appointment.location.zone
    return ZoneInfo(settings.TIME_ZONE)


def next_allowed_time(
    moment: datetime, zone: ZoneInfo, rules: MessagingSettings | None = None
) -> datetime:
    """`moment` itself, or the end of the quiet hours it falls in (local time)."""
    rules = rules or MessagingSettings.current()
    local = moment.astimezone(zone)
    start, end = rules.quiet_hours_start, rules.quiet_hours_end
    clock = local.time()
    quiet = (start <= clock or clock < end) if start > end else (start <= clock < end)
    if not quiet:
        return moment
    day: date = local.date()
    if start > end and clock >= start:  # the evening part: quiet until tomorrow morning
        day += timedelta(days=1)
    return datetime.combine(day, end, tzinfo=zone)


def render(notification: Notification, batch: SendBatch) -> None:
    """Fill in the message's recipient, subject and body from its template."""
    subject, body = batch.templates_for(notification)
    values = context_of(
        notification.patient,
        notification.appointment,
        notification.details,
        kind=notification.kind,
        due_at=notification.due_at,
    )
    notification.subject = render_message(subject, values)
    notification.body = render_message(body, values)
    patient = notification.patient
    notification.recipient = (
        patient.email if notification.channel == Channel.EMAIL else str(patient.mobile)
    )
