"""Which bookings clash with their practitioner's working time: booked (or checked in)
during the practitioner's leave, or outside their working hours at the location (a rota
changed or leave saved after the booking). One rule for the day view, the appointment's
page, the staff API and the change of working time (`services.change_working_time`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from practice.models import Leave

from .availability import working_windows
from .models import UPCOMING_STATUSES, Appointment

ON_LEAVE = "The practitioner is on leave then."
OUTSIDE_HOURS = "The practitioner is not working at this location then."


@dataclass(frozen=True)
class Placed:
    """What the rule reads of an appointment (an instance or a row of a list)."""

    id: int
    practitioner_id: int
    location_id: int
    start: datetime
    end: datetime


def clashes_among(appointments: Iterable[Placed | Appointment]) -> dict[int, str]:
    """The clashing ones among `appointments` (pass only those still to happen: booked or
    checked in), by id, with why. Two queries whatever their number: the working time of
    their practitioners over their dates, and their leave."""
    placed = [Placed(a.id, a.practitioner_id, a.location_id, a.start, a.end) for a in appointments]
    if not placed:
        return {}
    practitioner_ids = {a.practitioner_id for a in placed}
    first, last = min(a.start for a in placed), max(a.end for a in placed)
    # Local dates differ by zone; a day either side covers every location.
    home = timezone.get_default_timezone()
    windows = working_windows(
        practitioner_ids,
        first.astimezone(home).date() - timedelta(days=1),
        last.astimezone(home).date() + timedelta(days=1),
    )
    working: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    for window in windows:
        working[window.practitioner_id, window.location_id].append((window.start, window.end))
    leave: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for practitioner_id, start, end in Leave.objects.filter(
        practitioner_id__in=practitioner_ids, start__lt=last, end__gt=first
    ).values_list("practitioner_id", "start", "end"):
        leave[practitioner_id].append((start, end))

    clashes = {}
    for a in placed:
        if any(start < a.end and a.start < end for start, end in leave[a.practitioner_id]):
            clashes[a.id] = ON_LEAVE
            continue
        start, end = int(a.start.timestamp()), int(a.end.timestamp())
        # As when booking: one stretch of working time holds the whole session.
        windows_here = working[a.practitioner_id, a.location_id]
        if not any(w_start <= start and end <= w_end for w_start, w_end in windows_here):
            clashes[a.id] = OUTSIDE_HOURS
    return clashes


def upcoming_clashes(practitioner_ids: Iterable[int], *, now: datetime) -> dict[int, str]:
    """The practitioners' bookings from `now` on that clash, by id, with why."""
    upcoming = Appointment.objects.filter(
        Q(end__gt=now),
        practitioner_id__in=list(practitioner_ids),
        status__in=UPCOMING_STATUSES,
    ).only("id", "practitioner_id", "location_id", "start", "end")
    return clashes_among(upcoming)
