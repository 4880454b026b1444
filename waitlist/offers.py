"""Offering freed time to the waitlist: match, hold, offer; first to accept books it.

The flow, each step one transaction:

1. A change that frees time (a cancellation, a move away, working time changed) writes a
   `FreedTime` row in its own transaction (`receivers`).
2. `process_freed_time` (a task enqueued on commit, and beat's sweep every minute) claims
   each unprocessed row with SKIP LOCKED and, for each free start the row's time now
   allows, finds the entries that fit (`candidates_for`), holds the time
   (`appointments.services.hold_for_offer`: the database then refuses anyone else booking
   or holding it) and offers it to the first `offers_at_once` of them: an offer row and its
   messages (the outbox, one per consented channel, unique by reason key). The claim, the
   hold, the offers and the messages commit together or not at all: a worker killed
   midway leaves no hold and sends nothing, and the row is processed again.
3. `accept_offer` books the held time with the hold (or moves the entry's linked booking
   into it) and ends the entry; the hold's row, locked first and deleted by the booking,
   makes any second acceptance find nothing (`offer_taken`).
4. `decline_offer`, and `sweep_offers` for those that expire or whose entry ended, end
   offers; the time then goes to the next candidate, or is released.

Who may call these is the caller's question; the link's token is the patient's proof.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from celery import current_app
from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from appointments.availability import free_starts
from appointments.models import OCCUPYING_STATUSES, Appointment, SlotHold, Source, Status
from appointments.services import (
    assessed_before,
    book_appointment,
    hold_for_offer,
    reschedule_appointment,
)
from kernel.errors import DomainError
from notifications.models import Delivery, Kind, MessagingSettings, Notification
from notifications.services import consented_channels, next_allowed_time
from notifications.tasks import dispatch_soon
from notifications.wording import visit_of
from practice.models import BookingRules, Location, Practitioner, Service

from .models import EndReason, FreedTime, OfferPolicy, OfferStatus, WaitlistEntry, WaitlistOffer

TOKEN_SALT = "waitlist.offer"
# Reason keys of an offer's messages: `waitlist_offer:<offer id>:<channel>`.
REASON_PREFIX = "waitlist_offer"


# --- the policy and the clock ------------------------------------------------------------


def policy_for(service: Service | int) -> OfferPolicy:
    """The service's own policy, else the default one (made on first use)."""
    service_id = getattr(service, "pk", service)
    policies = {
        p.service_id: p
        for p in OfferPolicy.objects.filter(Q(service_id=service_id) | Q(service=None))
    }
    if service_id in policies:
        return policies[service_id]
    if None in policies:
        return policies[None]
    default, _ = OfferPolicy.objects.get_or_create(service=None)
    return default


def is_quiet(moment: datetime, zone: ZoneInfo, rules: MessagingSettings) -> bool:
    return next_allowed_time(moment, zone, rules) > moment


def awake_deadline(
    start: datetime, minutes: int, zone: ZoneInfo, rules: MessagingSettings
) -> datetime:
    """`minutes` after `start` counting only the minutes outside the quiet hours: an offer
    made at 19:50 with 15 minutes, quiet hours 20:00-08:00, ends at 08:05 next morning. The
    patient is not messaged at night (`next_allowed_time`), so the night does not count
    against them either."""
    left = timedelta(minutes=minutes)
    moment = start
    if rules.quiet_hours_start == rules.quiet_hours_end:
        return start + left
    for _ in range(400):  # a day has one quiet stretch: far more than any expiry needs
        moment = next_allowed_time(moment, zone, rules)
        local = moment.astimezone(zone)
        quiet_from = datetime.combine(local.date(), rules.quiet_hours_start, tzinfo=zone)
        if quiet_from <= moment:
            quiet_from += timedelta(days=1)
        awake = quiet_from - moment
        if left <= awake:
            return moment + left
        left -= awake
        moment = quiet_from
    return moment + left


def expiry_for(
    policy: OfferPolicy,
    *,
    start: datetime,
    now: datetime,
    zone: ZoneInfo,
    rules: MessagingSettings,
) -> datetime:
    """When an offer of a time at `start` made `now` ends: the policy's minutes for its lead
    time (today, soon, later), in awake minutes, and never after the time itself begins."""
    days_ahead = (start.astimezone(zone).date() - now.astimezone(zone).date()).days
    if days_ahead <= 0:
        minutes = policy.same_day_minutes
    elif days_ahead <= policy.soon_days:
        minutes = policy.soon_minutes
    else:
        minutes = policy.later_minutes
    return min(awake_deadline(now, minutes, zone, rules), start)


# --- matching ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FreeStart:
    """A time the service could be booked at now: what an offer holds."""

    service: Service
    practitioner_id: int
    location_id: int
    start: datetime
    end: datetime
    blocked_until: datetime
    zone: ZoneInfo


def candidates_for(slot: FreeStart, *, now: datetime | None = None) -> list[WaitlistEntry]:
    """The open entries that would take `slot`, best first: urgent ones, then those waiting
    longest. The one matching rule, whoever asks (the task, reception's offer by hand).

    An entry fits when the slot is its service, with one of its practitioners and at one of
    its locations (none: any), on one of its weekdays, inside its window of the day (the
    whole session) and its dates, earlier than its linked booking ("sooner than"); its
    patient is active, not archived, reachable on a consented channel, has no appointment
    overlapping the slot, passes the new-patient rule (an assessment before it, as
    `book_appointment` asks), has no live offer now and was not offered this time before."""
    now = now or timezone.now()
    local = slot.start.astimezone(slot.zone)
    local_end = slot.end.astimezone(slot.zone)
    day = local.date()
    entries = WaitlistEntry.objects.filter(
        ended_at__isnull=True,
        service=slot.service,
        latest_date__gte=day,
        patient__is_active=True,
        patient__archived_at__isnull=True,
    ).filter(
        Q(earliest_date__isnull=True) | Q(earliest_date__lte=day),
        Q(weekdays=[]) | Q(weekdays__contains=[day.weekday()]),
        Q(earliest_time__isnull=True) | Q(earliest_time__lte=local.time()),
        Q(latest_time__isnull=True) | Q(latest_time__gte=local_end.time()),
        Q(sooner_than__isnull=True)
        | Q(sooner_than__status=Status.BOOKED, sooner_than__start__gt=slot.start),
    )
    names_them = WaitlistEntry.practitioners.through.objects.filter(waitlistentry_id=OuterRef("pk"))
    at_location = WaitlistEntry.locations.through.objects.filter(waitlistentry_id=OuterRef("pk"))
    entries = entries.filter(
        ~Exists(names_them) | Exists(names_them.filter(practitioner_id=slot.practitioner_id)),
        ~Exists(at_location) | Exists(at_location.filter(location_id=slot.location_id)),
    )
    overlapping = Appointment.objects.filter(
        patient_id=OuterRef("patient_id"),
        status__in=OCCUPYING_STATUSES,
        start__lt=slot.end,
        end__gt=slot.start,
    )
    live_offer = WaitlistOffer.objects.filter(entry=OuterRef("pk"), status=OfferStatus.OFFERED)
    offered_before = WaitlistOffer.objects.filter(
        entry=OuterRef("pk"), practitioner_id=slot.practitioner_id, start=slot.start
    )
    entries = entries.filter(~Exists(overlapping), ~Exists(live_offer), ~Exists(offered_before))
    rules = BookingRules.current()
    if rules.new_patients_start_with_assessment and not slot.service.is_assessment:
        entries = entries.filter(Exists(assessed_before(OuterRef("patient_id"), slot.start)))
    ordered = entries.select_related("patient", "service", "sooner_than").order_by(
        F("urgent").desc(), "created_at", "pk"
    )
    return [entry for entry in ordered if consented_channels(entry.patient)]


def _still_waiting(service: Service, *, practitioner_id: int) -> QuerySet[WaitlistEntry]:
    """Open entries for `service` that would take `practitioner_id` and have no live offer."""
    names_them = WaitlistEntry.practitioners.through.objects.filter(waitlistentry_id=OuterRef("pk"))
    return WaitlistEntry.objects.filter(ended_at__isnull=True, service=service).filter(
        ~Exists(names_them) | Exists(names_them.filter(practitioner_id=practitioner_id)),
        ~Exists(WaitlistOffer.objects.filter(entry=OuterRef("pk"), status=OfferStatus.OFFERED)),
    )


def free_starts_in(
    service: Service,
    *,
    practitioner_id: int,
    location_id: int | None,
    start: datetime,
    end: datetime,
    now: datetime,
    min_notice: timedelta,
) -> list[FreeStart]:
    """The free starts of `service` with the practitioner in [start, end), from
    `now + min_notice` on: the same search as `free_slots` (working
    hours, breaks and leave, bookings and live holds, a free room place, the clinic's grid)."""
    rules = BookingRules.current()
    if not service.is_active:
        return []
    earliest = max(start, now + min_notice)
    if earliest >= end:
        return []
    zone = timezone.get_default_timezone()
    found = free_starts(
        service,
        earliest.astimezone(zone).date() - timedelta(days=1),
        end.astimezone(zone).date() + timedelta(days=1),
        practitioner_id,
        location_id,
        grid_minutes=rules.slot_grid_minutes,
        earliest=int(earliest.timestamp()),
        latest=int(end.timestamp()) - 1,
        now=now,
    )
    blocked = service.duration + service.buffer_after
    slots = []
    for epoch, pid, lid in found.starts:
        at = datetime.fromtimestamp(epoch, UTC)
        if at < start:  # free before, and not taken: the freed time is what is offered
            continue
        slots.append(
            FreeStart(
                service=service,
                practitioner_id=pid,
                location_id=lid,
                start=at,
                end=at + service.duration,
                blocked_until=at + blocked,
                zone=found.zones[lid],
            )
        )
    return slots


# --- offering ----------------------------------------------------------------------------


def record_freed_time(
    *, practitioner_id: int, location_id: int | None, start: datetime, end: datetime
) -> FreedTime | None:
    """Note time that became free, in the caller's transaction, and have it offered once
    that commits. Time already past is not worth a row."""
    if end <= timezone.now() or start >= end:
        return None
    freed = FreedTime.objects.create(
        practitioner_id=practitioner_id, location_id=location_id, start=start, end=end
    )
    _process_after_commit()
    return freed


# The task that processes it (`tasks.offer_freed_time`), by name: the task module calls
# this one, so this one does not import it.
OFFER_TASK = "waitlist.tasks.offer_freed_time"


def _process_after_commit() -> None:
    # One task per transaction, however many rows it wrote (a rota change cancels many).
    pending = transaction.get_connection().run_on_commit
    if not any(callback is enqueue_processing for _, callback, _ in pending):
        transaction.on_commit(enqueue_processing)


def enqueue_processing() -> None:
    """After commit: a web request must not wait on a broker that is down; beat's sweep
    catches up within a minute. Through the registered task (its signature), not
    `send_task`: the task's own options apply, and so does `task_always_eager`."""
    with contextlib.suppress(Exception):
        current_app.signature(OFFER_TASK).apply_async(retry=False)


def process_freed_time(*, now: datetime | None = None, limit: int = 100) -> int:
    """Offer the freed time not yet processed, oldest first, each row in a transaction of
    its own with the holds, offers and messages it makes; how many rows were processed.

    SKIP LOCKED: two workers never take the same row, and a row whose worker died is
    unlocked with its rolled-back transaction and taken again. In quiet hours nothing is
    offered: the rows wait for the morning (beat's sweep every minute finds them)."""
    now = now or timezone.now()
    messaging = MessagingSettings.current()
    waiting: list[int] = []
    done = 0
    while done + len(waiting) < limit:
        with transaction.atomic():
            freed = (
                FreedTime.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(processed_at__isnull=True)
                .exclude(pk__in=waiting)
                .select_related("location")
                .order_by("created_at", "pk")
                .first()
            )
            if freed is None:
                break
            zone = freed.location.zone if freed.location else timezone.get_default_timezone()
            if freed.end > now and is_quiet(now, zone, messaging):
                waiting.append(freed.pk)
                continue
            offer_freed(freed, now=now, messaging=messaging)
            freed.processed_at = now
            freed.save(update_fields=["processed_at"])
            done += 1
    return done


def offer_freed(
    freed: FreedTime, *, now: datetime, messaging: MessagingSettings | None = None
) -> list[WaitlistOffer]:
    """Hold and offer each free start the freed time allows, to the best candidates of the
    services waited for; at most one hold per start (they do not overlap: a hold takes its
    time from the next start's search)."""
    messaging = messaging or MessagingSettings.current()
    if freed.end <= now:
        return []
    waited_for = (
        WaitlistEntry.objects.filter(ended_at__isnull=True)
        .order_by(F("urgent").desc(), "created_at", "pk")
        .values_list("service_id", flat=True)
    )
    service_ids = list(dict.fromkeys(waited_for))
    services = Service.objects.in_bulk(service_ids)
    made: list[WaitlistOffer] = []
    for service_id in service_ids:
        service = services[service_id]
        policy = policy_for(service)
        if not policy.enabled:
            continue
        slots = free_starts_in(
            service,
            practitioner_id=freed.practitioner_id,
            location_id=freed.location_id,
            start=freed.start,
            end=freed.end,
            now=now,
            min_notice=timedelta(minutes=policy.min_notice_minutes),
        )
        taken: list[tuple[datetime, datetime]] = [
            (offer.start, offer.end + service.buffer_after) for offer in made
        ]
        for slot in slots:
            if any(start < slot.blocked_until and slot.start < end for start, end in taken):
                continue
            # Each entry has one live offer at most: once every one that could take this
            # practitioner has one, the rest of a long stretch (weeks of added hours) is
            # not searched start by start.
            if not _still_waiting(service, practitioner_id=freed.practitioner_id).exists():
                break
            offers = offer_slot(slot, policy=policy, now=now, messaging=messaging)
            if offers:
                made += offers
                taken.append((slot.start, slot.blocked_until))
    return made


def offer_slot(
    slot: FreeStart,
    *,
    policy: OfferPolicy,
    now: datetime,
    messaging: MessagingSettings,
    entries: Sequence[WaitlistEntry] | None = None,
    by: User | None = None,
) -> list[WaitlistOffer]:
    """Hold `slot` and offer it to the best `offers_at_once` candidates (or to `entries`,
    reception's choice); none if nobody fits or the time was taken meanwhile."""
    chosen = list(entries) if entries is not None else candidates_for(slot, now=now)
    chosen = chosen[: policy.offers_at_once]
    if not chosen:
        return []
    expires_at = expiry_for(policy, start=slot.start, now=now, zone=slot.zone, rules=messaging)
    if expires_at <= now + timedelta(minutes=1):
        return []
    try:
        with transaction.atomic():
            hold = hold_for_offer(
                service=slot.service,
                practitioner=Practitioner.objects.get(pk=slot.practitioner_id),
                start=slot.start,
                location=slot.location_id,
                expires_at=expires_at,
                now=now,
            )
    except DomainError:
        return []  # booked or held meanwhile: nothing to offer
    return [_offer(entry, hold, now=now, by=by) for entry in chosen]


def _offer(
    entry: WaitlistEntry, hold: SlotHold, *, now: datetime, by: User | None = None
) -> WaitlistOffer:
    """One offer of the held time and its messages, exactly once per channel (the reason
    key is unique)."""
    offer = WaitlistOffer.objects.create(
        entry=entry,
        hold=hold,
        service_id=hold.service_id,
        practitioner_id=hold.practitioner_id,
        location_id=hold.location_id,
        start=hold.start,
        end=hold.end,
        sent_at=now,
        expires_at=hold.expires_at,
        offered_by=by,
    )
    details = offer_details(offer)
    Notification.objects.bulk_create(
        [
            Notification(
                kind=Kind.WAITLIST_OFFER,
                channel=channel,
                patient_id=entry.patient_id,
                reason_key=f"{REASON_PREFIX}:{offer.pk}:{channel}",
                due_at=now,
                details=details,
            )
            for channel in consented_channels(entry.patient)
        ],
        ignore_conflicts=True,
    )
    transaction.on_commit(dispatch_soon)
    return offer


def offer_details(offer: WaitlistOffer) -> dict[str, str]:
    """What the offer's message says: the time, with whom, where, the link and the end."""
    as_booked = Appointment(
        practitioner=Practitioner.objects.select_related("user").get(pk=offer.practitioner_id),
        service=Service.objects.get(pk=offer.service_id),
        location=Location.objects.get(pk=offer.location_id),
        start=offer.start,
    )
    visit = visit_of(as_booked)
    expires = offer.expires_at.astimezone(as_booked.location.zone)
    return {
        "start": f"{visit.start:%A %d %B at %H:%M}",
        "start_date": f"{visit.start:%A %d %B}",
        "start_time": f"{visit.start:%H:%M}",
        "service": visit.service,
        "practitioner": visit.practitioner,
        "location": visit.location,
        "address": visit.address,
        "offer_url": settings.WAITLIST_OFFER_URL.format(token=token_of(offer)),
        "expires": f"{expires:%A %d %B at %H:%M}",
    }


def offer_by_hand(
    *,
    entry: WaitlistEntry,
    practitioner: Practitioner,
    start: datetime,
    by: User,
    now: datetime | None = None,
) -> WaitlistOffer:
    """Reception offers a free time of its choosing to one entry: the same hold, offer and
    message as the automatic ones, and the same matching rules (`offer_not_fitting` names
    why not)."""
    now = now or timezone.now()
    messaging = MessagingSettings.current()
    with transaction.atomic():
        entry = (
            WaitlistEntry.objects.select_for_update(of=("self",))
            .select_related("patient", "service")
            .get(pk=entry.pk)
        )
        if entry.ended_at is not None:
            raise DomainError("entry_ended", "This waitlist entry has already ended.")
        service = entry.service
        slots = [
            slot
            for slot in free_starts_in(
                service,
                practitioner_id=practitioner.pk,
                location_id=None,
                start=start,
                end=start + service.duration,
                now=now,
                min_notice=timedelta(0),
            )
            if slot.start == start
        ]
        if not slots:
            raise DomainError.invalid(
                "start", [f"{practitioner} has no free time for {service} then."]
            )
        slot = slots[0]
        if entry.pk not in {candidate.pk for candidate in candidates_for(slot, now=now)}:
            raise DomainError(
                "offer_not_fitting",
                "That time does not fit this entry (its wishes, the patient's diary or "
                "consents, a live offer, or the same time offered before).",
            )
        policy = policy_for(service)
        offers = offer_slot(
            slot, policy=policy, now=now, messaging=messaging, entries=[entry], by=by
        )
        if not offers:
            raise DomainError("slot_unavailable", "That time was taken meanwhile.")
    return offers[0]


# --- the link ------------------------------------------------------------------------------


def token_of(offer: WaitlistOffer) -> str:
    """The link's secret: the offer's public id, signed (no login needed). It works while
    the offer is live; the offer's status makes it single-use, its `expires_at` ends it."""
    return signing.TimestampSigner(salt=TOKEN_SALT).sign(offer.public_id.hex)


def offer_of_token(token: str) -> WaitlistOffer | None:
    """The offer a link names, or None for a forged, mangled or very old one."""
    max_age = timedelta(days=settings.WAITLIST_OFFER_LINK_DAYS)
    try:
        public_id = signing.TimestampSigner(salt=TOKEN_SALT).unsign(token, max_age=max_age)
    except signing.BadSignature:
        return None
    return (
        WaitlistOffer.objects.filter(public_id=public_id)
        .select_related("entry__patient", "service", "practitioner__user", "location")
        .first()
    )


def status_now(offer: WaitlistOffer, *, now: datetime | None = None) -> str:
    """The offer's status as its link should say it now: an offer past its expiry is
    expired, and one whose hold was released withdrawn, before the sweep marks them."""
    if offer.status != OfferStatus.OFFERED:
        return offer.status
    if offer.expires_at <= (now or timezone.now()):
        return OfferStatus.EXPIRED
    if not SlotHold.objects.filter(pk=offer.hold_id).exists():
        return OfferStatus.WITHDRAWN
    return offer.status


def live_offers(
    offers: QuerySet[WaitlistOffer], *, now: datetime | None = None
) -> QuerySet[WaitlistOffer]:
    """Those of `offers` that can be taken now: offered, before their expiry, their hold
    still there — what `status_now` says `offered` of, for a list in one query."""
    return offers.filter(
        Exists(SlotHold.objects.filter(pk=OuterRef("hold_id"))),
        status=OfferStatus.OFFERED,
        expires_at__gt=now or timezone.now(),
    )


# --- answers -------------------------------------------------------------------------------

_ENDED = {
    OfferStatus.ACCEPTED: ("offer_used", "You have already taken this time: it is booked."),
    OfferStatus.DECLINED: ("offer_declined", "You passed on this time; you stay on the list."),
    OfferStatus.EXPIRED: (
        "offer_expired",
        "Sorry, this offer has expired; you stay on the waitlist for the next one.",
    ),
    OfferStatus.WITHDRAWN: (
        "offer_taken",
        "Sorry, this time is no longer available; you stay on the waitlist.",
    ),
}


def _refuse_ended(offer: WaitlistOffer, now: datetime) -> None:
    if offer.status == OfferStatus.OFFERED and offer.expires_at <= now:
        code, detail = _ENDED[OfferStatus.EXPIRED]
        raise DomainError(code, detail)
    if offer.status in _ENDED:
        code, detail = _ENDED[OfferStatus(offer.status)]
        raise DomainError(code, detail)


def accept_offer(*, offer: WaitlistOffer, now: datetime | None = None) -> Appointment:
    """Book the offered time for the entry's patient — or, for "sooner than", move their
    linked booking into it — and end the entry (`booked`). One transaction, through
    `book_appointment` (with the hold) or `reschedule_appointment`: the booking rules all
    apply again.

    The hold's row is locked before the offer's, by every acceptance: of two at the same
    moment the second waits, then finds the hold gone and its offer withdrawn, and is told
    `offer_taken` (its entry stays open). A second click on a used link is `offer_used`, an
    expired one `offer_expired`."""
    now = now or timezone.now()
    with transaction.atomic():
        hold_id = WaitlistOffer.objects.filter(pk=offer.pk).values_list("hold_id", flat=True)[0]
        hold = SlotHold.objects.select_for_update().filter(pk=hold_id).first() if hold_id else None
        current = _lock_offer(offer)
        _refuse_ended(current, now)
        if hold is None or hold.expires_at <= now:
            raise DomainError(*_ENDED[OfferStatus.WITHDRAWN])
        entry = current.entry
        if entry.ended_at is not None:
            raise DomainError(*_ENDED[OfferStatus.WITHDRAWN])
        # The other offers of this time end first: the booking then deletes the hold.
        _end_offers(
            WaitlistOffer.objects.filter(hold=hold, status=OfferStatus.OFFERED).exclude(
                pk=current.pk
            ),
            OfferStatus.WITHDRAWN,
            now,
        )
        sooner = entry.sooner_than
        if sooner is not None and sooner.status == Status.BOOKED and sooner.start > hold.start:
            hold.delete()  # under its lock: nobody can take the time before the move commits
            appointment = reschedule_appointment(
                appointment=sooner, start=current.start, practitioner=current.practitioner, now=now
            )
        else:
            appointment = book_appointment(
                patient=entry.patient,
                service=current.service,
                practitioner=current.practitioner,
                start=hold.start,
                location=hold.location_id,
                source=Source.WAITLIST,
                hold=hold,
                now=now,
            )
        current.status, current.ended_at = OfferStatus.ACCEPTED, now
        current.appointment, current.hold = appointment, None
        current.save(update_fields=["status", "ended_at", "appointment", "hold"])
        entry.ended_at, entry.end_reason = now, EndReason.BOOKED
        entry.save(update_fields=["ended_at", "end_reason"])
    return appointment


def decline_offer(*, offer: WaitlistOffer, now: datetime | None = None) -> WaitlistOffer:
    """The patient passes: the offer ends (the entry stays open) and the time goes to the
    next candidate, or is released if nobody else fits."""
    now = now or timezone.now()
    with transaction.atomic():
        current = _lock_offer(offer)
        _refuse_ended(current, now)
        _end_offers(WaitlistOffer.objects.filter(pk=current.pk), OfferStatus.DECLINED, now)
        _pass_on(current, now=now)
        current.refresh_from_db()
    return current


def withdraw_offers(
    offers: QuerySet[WaitlistOffer], *, release: bool, now: datetime | None = None
) -> int:
    """Reception takes the time back: the live offers end (withdrawn; their links say the
    time is no longer available) and, with `release`, their holds go, so the time can be
    booked at the desk. How many offers ended."""
    now = now or timezone.now()
    with transaction.atomic():
        hold_ids = {
            pk
            for pk in offers.filter(status=OfferStatus.OFFERED).values_list("hold_id", flat=True)
            if pk
        }
        ended = _end_offers(offers, OfferStatus.WITHDRAWN, now)
        if release and hold_ids:
            # Every offer of these holds ends with them: a hold without offers is released.
            _end_offers(
                WaitlistOffer.objects.filter(hold_id__in=hold_ids), OfferStatus.WITHDRAWN, now
            )
            SlotHold.objects.filter(pk__in=hold_ids).delete()
    return ended


def sweep_offers(*, now: datetime | None = None) -> int:
    """Beat, every minute: end the live offers that expired (the time goes to the next
    candidate), then those whose hold went (released by reception, or ended by a staff
    booking over the time: `appointments.services.book_appointment`) or whose entry ended:
    withdrawn. Safe to run twice: only live offers change. How many ended."""
    now = now or timezone.now()
    ended = 0
    live = WaitlistOffer.objects.filter(status=OfferStatus.OFFERED)
    # Expired first: beat may have deleted an expired hold already (`end_expired_holds`),
    # and an offer that ran out is passed on, not withdrawn.
    for pk in list(live.filter(expires_at__lte=now).values_list("pk", flat=True)[:200]):
        with transaction.atomic():
            offer = WaitlistOffer.objects.filter(pk=pk).first()
            if offer and _end_offers(WaitlistOffer.objects.filter(pk=pk), OfferStatus.EXPIRED, now):
                ended += 1
                _pass_on(offer, now=now)
    still_held = SlotHold.objects.filter(pk=OuterRef("hold_id"))
    with transaction.atomic():
        ended += _end_offers(
            live.filter(~Exists(still_held) | Q(entry__ended_at__isnull=False)),
            OfferStatus.WITHDRAWN,
            now,
        )
    return ended


def _pass_on(offer: WaitlistOffer, *, now: datetime) -> None:
    """`offer` ended without a booking: offer its time to the next candidate (beside any
    offers of it still live), or, once no offer of it is left, release the hold and note
    the time as free again (a later round, out of quiet hours, may find it a taker)."""
    hold = (
        SlotHold.objects.select_for_update().filter(pk=offer.hold_id).first()
        if offer.hold_id
        else None
    )
    same_time = WaitlistOffer.objects.filter(
        status=OfferStatus.OFFERED, practitioner_id=offer.practitioner_id, start=offer.start
    )
    live = same_time.count()
    if hold is not None and _offer_to_next(hold, live=live, now=now):
        return
    if live:
        return
    if hold is not None:
        hold.delete()
    service = Service.objects.get(pk=offer.service_id)
    record_freed_time(
        practitioner_id=offer.practitioner_id,
        location_id=offer.location_id,
        start=offer.start,
        end=offer.end + service.buffer_after,
    )


def _offer_to_next(hold: SlotHold, *, live: int, now: datetime) -> bool:
    """Offer the held time to the next candidates, up to the policy's number at once;
    whether anyone was offered it. The hold is extended for them: the next candidate gets
    the policy's span, not what was left of the first one's."""
    service = Service.objects.get(pk=hold.service_id)
    policy = policy_for(service)
    messaging = MessagingSettings.current()
    zone = Location.objects.get(pk=hold.location_id).zone
    wanted = policy.offers_at_once - live
    if (
        not policy.enabled
        or wanted <= 0
        or is_quiet(now, zone, messaging)
        or hold.start <= now + timedelta(minutes=policy.min_notice_minutes)
    ):
        return False
    expires_at = expiry_for(policy, start=hold.start, now=now, zone=zone, rules=messaging)
    if expires_at <= now + timedelta(minutes=1):
        return False
    slot = FreeStart(
        service=service,
        practitioner_id=hold.practitioner_id,
        location_id=hold.location_id,
        start=hold.start,
        end=hold.end,
        blocked_until=hold.blocked_until,
        zone=zone,
    )
    nexts = candidates_for(slot, now=now)[:wanted]
    if not nexts:
        return False
    hold.expires_at = max(hold.expires_at, expires_at)
    hold.save(update_fields=["expires_at"])
    for entry in nexts:
        _offer(entry, hold, now=now)
    return True


def _lock_offer(offer: WaitlistOffer) -> WaitlistOffer:
    return (
        WaitlistOffer.objects.select_for_update(of=("self",))
        .select_related("entry__patient", "entry__sooner_than", "service", "practitioner")
        .get(pk=offer.pk)
    )


def _end_offers(offers: QuerySet[WaitlistOffer], status: str, now: datetime) -> int:
    """End the live ones among `offers` with `status`, and withdraw their messages not yet
    sent (a message already sent leads to a link that says so)."""
    ids = list(offers.filter(status=OfferStatus.OFFERED).values_list("pk", flat=True))
    if not ids:
        return 0
    ended = WaitlistOffer.objects.filter(pk__in=ids, status=OfferStatus.OFFERED).update(
        status=status, ended_at=now
    )
    Notification.objects.filter(reason_key__in=_reason_keys(ids), status=Delivery.PENDING).update(
        status=Delivery.WITHDRAWN, last_error="The offer ended.", updated_at=now
    )
    return ended


def _reason_keys(offer_ids: Iterable[int]) -> list[str]:
    channels = ("email", "sms")
    return [f"{REASON_PREFIX}:{pk}:{channel}" for pk in offer_ids for channel in channels]


def offer_of_message(notification: Notification) -> WaitlistOffer | None:
    """The offer a message of kind `waitlist_offer` was about (its reason key names it)."""
    prefix, _, rest = notification.reason_key.partition(":")
    offer_id = rest.partition(":")[0]
    if prefix != REASON_PREFIX or not offer_id.isdigit():
        return None
    return WaitlistOffer.objects.filter(pk=int(offer_id)).first()


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()
