"""Changes to the waitlist: joining it, changing what one waits for, leaving it, and the
sweep that ends entries whose latest date has passed.

Who may act for which patient is the caller's question (the API and the admin look the
patient up among those the user may see); these rules hold whoever calls."""

from collections.abc import Collection
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import is_staff_member
from appointments.availability import practitioners_for
from appointments.models import Appointment, Status
from kernel.clock import save_at
from kernel.errors import DomainError
from patients.models import Patient
from practice.models import Location, Practitioner, Service, Weekday

from .models import EndReason, WaitlistEntry

WEEKDAYS = frozenset(Weekday.values)  # 0 = Monday .. 6 = Sunday, as `date.weekday()`


@dataclass(frozen=True)
class Wish:
    """What a patient on the waitlist would take. Empty practitioners, locations and
    weekdays mean any; no earliest date means from now."""

    latest_date: date
    practitioners: Collection[Practitioner] = ()
    locations: Collection[Location] = ()
    weekdays: Collection[int] = ()
    earliest_time: time | None = None
    latest_time: time | None = None
    earliest_date: date | None = None
    sooner_than: Appointment | None = None
    urgent: bool = False
    note: str = ""


WISH_FIELDS = frozenset(f.name for f in fields(Wish))
# Only the front desk marks an entry urgent or writes its note.
STAFF_FIELDS = ("urgent", "note")


def join_waitlist(
    *,
    patient: Patient,
    service: Service,
    wish: Wish,
    by: User | None,
    now: datetime | None = None,
) -> WaitlistEntry:
    """Put `patient` on the waitlist for `service`. One open entry per patient and service
    (`already_on_waitlist`, the database's partial unique key under concurrency too). `by`
    None is the clinic itself (the demo's seed), which sets what staff set."""
    now = now or timezone.now()
    if not patient.is_active:
        raise DomainError("patient_inactive", "This patient's record is not active.")
    if not service.is_active:
        raise DomainError.invalid("service", [f"{service} is no longer offered."])
    _check_staff_only({name: getattr(wish, name) for name in STAFF_FIELDS}, by=by)
    _check_wish(wish, patient=patient, service=service, now=now)
    with transaction.atomic():
        # Joins of one patient queue here, so the check below sees the other's entry.
        Patient.objects.select_for_update().filter(pk=patient.pk).first()
        if WaitlistEntry.objects.filter(
            patient=patient, service=service, ended_at__isnull=True
        ).exists():
            raise DomainError(
                "already_on_waitlist", f"{patient} is already on the waitlist for {service}."
            )
        entry = WaitlistEntry(patient=patient, service=service, created_by=by)
        _write(entry, wish, now=now)
    return entry


def change_entry(
    *, entry: WaitlistEntry, changes: dict[str, object], by: User, now: datetime | None = None
) -> WaitlistEntry:
    """Change what an open entry waits for: `changes` names fields of `Wish`; the others
    keep their value. An ended entry is not changed (`entry_ended`)."""
    now = now or timezone.now()
    unknown = set(changes) - WISH_FIELDS
    if unknown:
        raise ValueError(f"Not a field of the waitlist's wish: {sorted(unknown)}")
    _check_staff_only(changes, by=by)
    with transaction.atomic():
        entry = _lock_open(entry)
        wish = replace(_wish_of(entry), **changes)
        _check_wish(wish, patient=entry.patient, service=entry.service, now=now)
        _write(entry, wish, now=now)
    return entry


def leave_waitlist(
    *, entry: WaitlistEntry, reason: EndReason = EndReason.LEFT, now: datetime | None = None
) -> WaitlistEntry:
    """End an open entry: the patient left it, or staff removed it. An ended entry stays
    ended (`entry_ended`): it keeps the reason it ended with."""
    with transaction.atomic():
        entry = _lock_open(entry)
        entry.ended_at = now or timezone.now()
        entry.end_reason = reason
        entry.save(update_fields=["ended_at", "end_reason"])
    return entry


def end_expired_entries(*, now: datetime | None = None) -> int:
    """End the open entries whose latest date (the clinic's calendar) has passed; how many.
    One conditional UPDATE: safe to run twice, and beside a patient leaving at the same
    moment (the entry ends once, with whichever reason came first)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    return WaitlistEntry.objects.filter(ended_at__isnull=True, latest_date__lt=today).update(
        ended_at=now, end_reason=EndReason.EXPIRED
    )


def _wish_of(entry: WaitlistEntry) -> Wish:
    """What `entry` waits for now."""
    return Wish(
        **{name: getattr(entry, name) for name in WISH_FIELDS - {"practitioners", "locations"}},
        practitioners=list(entry.practitioners.all()),
        locations=list(entry.locations.all()),
    )


def _lock_open(entry: WaitlistEntry) -> WaitlistEntry:
    locked = (
        WaitlistEntry.objects.select_for_update(of=("self",))
        .select_related("patient", "service")
        .get(pk=entry.pk)
    )
    if locked.ended_at is not None:
        raise DomainError("entry_ended", "This waitlist entry has already ended.")
    return locked


def _write(entry: WaitlistEntry, wish: Wish, *, now: datetime) -> None:
    for name in WISH_FIELDS - {"practitioners", "locations", "weekdays"}:
        setattr(entry, name, getattr(wish, name))
    entry.weekdays = sorted(wish.weekdays)
    save_at(entry, now)  # a new entry waits since the service's moment
    entry.practitioners.set(wish.practitioners)
    entry.locations.set(wish.locations)


def _check_wish(wish: Wish, *, patient: Patient, service: Service, now: datetime) -> None:
    """Refuse, naming the field, what the entry could never be matched with."""
    weekdays = list(wish.weekdays)
    if any(day not in WEEKDAYS for day in weekdays):
        raise DomainError.invalid("weekdays", ["Days are 0 (Monday) to 6 (Sunday)."])
    if len(set(weekdays)) != len(weekdays):
        raise DomainError.invalid("weekdays", ["Name each day once."])
    if wish.earliest_time and wish.latest_time and wish.earliest_time >= wish.latest_time:
        raise DomainError.invalid("latest_time", ["Must be later than the earliest time."])
    if wish.latest_date < timezone.localdate(now):
        raise DomainError.invalid("latest_date", ["Must not be in the past."])
    if wish.earliest_date and wish.earliest_date > wish.latest_date:
        raise DomainError.invalid("latest_date", ["Must not be before the earliest date."])
    named = {practitioner.pk for practitioner in wish.practitioners}
    offering = Practitioner.objects.filter(practitioners_for(service), pk__in=named)
    if named and offering.count() < len(named):
        raise DomainError.invalid("practitioners", [f"Each must be one who offers {service}."])
    if any(not location.is_active for location in wish.locations):
        raise DomainError.invalid("locations", ["Each must be a location that is open."])
    if wish.sooner_than is not None:
        _check_sooner_than(wish.sooner_than, patient=patient, service=service, now=now)


def _check_staff_only(values: dict[str, object], *, by: User | None) -> None:
    """Only staff (or the clinic itself: no user) set what the front desk decides; a
    patient's own change leaves it be."""
    if by is None or is_staff_member(by):
        return
    for name in STAFF_FIELDS:
        if values.get(name):
            raise DomainError.invalid(name, ["Only the clinic's staff set this."])


def _check_sooner_than(
    appointment: Appointment, *, patient: Patient, service: Service, now: datetime
) -> None:
    if (
        appointment.patient_id != patient.pk
        or appointment.service_id != service.pk
        or appointment.status != Status.BOOKED
        or appointment.start <= now
    ):
        raise DomainError.invalid(
            "sooner_than", [f"Must be the patient's own upcoming booking of {service}."]
        )
