"""Free slots: the rota, minus breaks, leave and booked time, where a room is still free.

The API, the admin and the booking services all ask these functions, so what a patient is
offered and what the clinic accepts cannot drift apart. They read a fixed number of queries
whatever the window or the number of practitioners, and then work on integer epoch seconds,
which keeps a clinic-wide fortnight to a few tens of milliseconds.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from practice.models import (
    BookingRules,
    ExtraHours,
    Leave,
    Location,
    Practitioner,
    Room,
    Service,
    WorkingHours,
)

from .models import OCCUPYING_STATUSES, Appointment

# No appointment lasts longer than this (a database check says so), which lets a window's
# overlapping appointments be found with a bounded index range scan on `start`.
MAX_APPOINTMENT_SPAN = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Slot:
    start: datetime
    end: datetime
    practitioner_id: int
    location_id: int


@dataclass(frozen=True, slots=True)
class WorkingWindow:
    """A stretch of one day that a practitioner works at one location, breaks taken out.

    `start_second`/`end_second` count wall-clock seconds from the location's midnight;
    `start`/`end` are the same instants as epoch seconds.
    """

    practitioner_id: int
    location_id: int
    day: date
    zone: ZoneInfo
    start_second: int
    end_second: int
    start: int
    end: int

    def grid_starts(self, grid_seconds: int) -> Iterator[int]:
        """Epoch seconds of every grid time on the local clock inside the window.

        A wall-clock time that daylight saving skips is not offered; one it repeats is
        offered once, at its first occurrence.
        """
        first = -(-self.start_second // grid_seconds) * grid_seconds
        if self.end - self.start == self.end_second - self.start_second:
            # No clock change inside the window: local seconds map 1:1 onto epoch seconds.
            midnight = self.start - self.start_second
            yield from range(midnight + first, midnight + self.end_second, grid_seconds)
            return
        midnight_wall = datetime.combine(self.day, time())
        for second in range(first, self.end_second, grid_seconds):
            wall = midnight_wall + timedelta(seconds=second)
            instant = wall.replace(tzinfo=self.zone).astimezone(UTC)
            if instant.astimezone(self.zone).replace(tzinfo=None) == wall:
                yield int(instant.timestamp())


class _Busy:
    """Disjoint, sorted busy intervals with a logarithmic overlap test."""

    __slots__ = ("ends", "starts")

    def __init__(self, intervals: Iterable[tuple[int, int]]):
        self.starts: list[int] = []
        self.ends: list[int] = []
        for start, end in sorted(intervals):
            if self.ends and start <= self.ends[-1]:
                self.ends[-1] = max(self.ends[-1], end)
            else:
                self.starts.append(start)
                self.ends.append(end)

    def is_free(self, start: int, end: int) -> bool:
        i = bisect_left(self.starts, end) - 1
        return i < 0 or self.ends[i] <= start


_NOTHING_BUSY = _Busy(())


def _epoch(day: date, seconds: int, zone: ZoneInfo) -> int:
    return int(
        (datetime.combine(day, time(), tzinfo=zone) + timedelta(seconds=seconds)).timestamp()
    )


def _seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def _subtract(start: int, end: int, cuts: Iterable[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    for cut_start, cut_end in sorted(cuts):
        if cut_start > start:
            yield start, min(cut_start, end)
        start = max(start, cut_end)
        if start >= end:
            return
    if start < end:
        yield start, end


def _window(practitioner_id: int, location: Location, day: date, start: int, end: int):
    zone = location.zone
    return WorkingWindow(
        practitioner_id=practitioner_id,
        location_id=location.pk,
        day=day,
        zone=zone,
        start_second=start,
        end_second=end,
        # Wall-clock seconds, not a wall-clock time: a shift start in the skipped hour
        # still lands at a real instant.
        start=_epoch(day, start, zone),
        end=_epoch(day, end, zone),
    )


def working_windows(
    practitioner_ids: Iterable[int],
    start_date: date,
    end_date: date,
    *,
    location_id: int | None = None,
) -> list[WorkingWindow]:
    """The practitioners' working time on each local date from start_date to end_date.

    Weekly rota lines valid on the date, minus their breaks, plus one-off extra hours.
    Two queries for the rota (with breaks) and one for the extra hours.
    """
    practitioner_ids = list(practitioner_ids)
    rota = (
        WorkingHours.objects.filter(practitioner_id__in=practitioner_ids, location__is_active=True)
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=end_date))
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=start_date))
        .select_related("location")
        .prefetch_related("breaks")
    )
    extra = ExtraHours.objects.filter(
        practitioner_id__in=practitioner_ids,
        date__range=(start_date, end_date),
        location__is_active=True,
    ).select_related("location")
    if location_id is not None:
        rota = rota.filter(location_id=location_id)
        extra = extra.filter(location_id=location_id)

    rota_by_weekday: dict[int, list[WorkingHours]] = defaultdict(list)
    for line in rota:
        rota_by_weekday[line.weekday].append(line)

    windows: list[WorkingWindow] = []
    day = start_date
    while day <= end_date:
        for line in rota_by_weekday.get(day.weekday(), ()):
            if (line.valid_from and day < line.valid_from) or (
                line.valid_until and day > line.valid_until
            ):
                continue
            breaks = [(_seconds(b.start_time), _seconds(b.end_time)) for b in line.breaks.all()]
            for start, end in _subtract(_seconds(line.start_time), _seconds(line.end_time), breaks):
                windows.append(_window(line.practitioner_id, line.location, day, start, end))
        day += timedelta(days=1)
    for hours in extra:
        windows.append(
            _window(
                hours.practitioner_id,
                hours.location,
                hours.date,
                _seconds(hours.start_time),
                _seconds(hours.end_time),
            )
        )
    return windows


def practitioners_for(service: Service) -> Q:
    """Active practitioners whose disciplines deliver the service."""
    return Q(is_active=True, disciplines__overlap=service.disciplines)


def free_slots(
    service: Service,
    start_date: date,
    end_date: date,
    practitioner: Practitioner | int | None = None,
    location: Location | int | None = None,
    *,
    online: bool = False,
    now: datetime | None = None,
) -> list[Slot]:
    """Every start at which `service` can be booked, by practitioner and location.

    A slot needs the practitioner working (rota or extra hours, outside breaks and leave)
    for the whole session, the practitioner free for the session and its buffer, and a
    place in a room of the service's kind at that location. Slots start on the clinic's
    grid of the local clock. `online` applies the patient-facing rules: the service must be
    bookable online, and the start must lie between the lead time and the horizon.
    Dates are local dates at each location; the result is sorted by start, then practitioner.
    """
    now = now or timezone.now()
    rules = BookingRules.current()
    if not service.is_active or (online and not service.bookable_online):
        return []

    practitioners = Practitioner.objects.filter(practitioners_for(service))
    if practitioner is not None:
        practitioners = practitioners.filter(pk=getattr(practitioner, "pk", practitioner))
    practitioner_ids = list(practitioners.values_list("pk", flat=True))
    location_id = getattr(location, "pk", location)
    windows = working_windows(practitioner_ids, start_date, end_date, location_id=location_id)
    if not windows:
        return []

    span_start = min(w.start for w in windows)
    span_end = max(w.end for w in windows)
    span = (
        datetime.fromtimestamp(span_start, UTC),
        datetime.fromtimestamp(span_end + service.buffer_after_minutes * 60, UTC),
    )
    location_ids = {w.location_id for w in windows}
    rooms = list(
        Room.objects.filter(
            kind=service.room_kind, is_active=True, location_id__in=location_ids
        ).values_list("pk", "location_id", "capacity")
    )
    room_ids = [room_id for room_id, _, _ in rooms]

    busy_by_practitioner: dict[int, list[tuple[int, int]]] = defaultdict(list)
    busy_by_place: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    booked = Appointment.objects.filter(
        Q(practitioner_id__in=practitioner_ids) | Q(room_id__in=room_ids),
        status__in=OCCUPYING_STATUSES,
        start__gt=span[0] - MAX_APPOINTMENT_SPAN,
        start__lt=span[1],
        blocked_until__gt=span[0],
    ).values_list("practitioner_id", "room_id", "room_place", "start", "blocked_until")
    for practitioner_id, room_id, place, start, blocked_until in booked:
        interval = (int(start.timestamp()), int(blocked_until.timestamp()))
        busy_by_practitioner[practitioner_id].append(interval)
        busy_by_place[room_id, place].append(interval)
    away = Leave.objects.filter(
        practitioner_id__in=practitioner_ids, start__lt=span[1], end__gt=span[0]
    ).values_list("practitioner_id", "start", "end")
    for practitioner_id, start, end in away:
        busy_by_practitioner[practitioner_id].append((int(start.timestamp()), int(end.timestamp())))

    practitioner_busy = {pid: _Busy(iv) for pid, iv in busy_by_practitioner.items()}
    places_by_location: dict[int, list[_Busy]] = defaultdict(list)
    for room_id, room_location_id, capacity in rooms:
        for place in range(1, capacity + 1):
            places_by_location[room_location_id].append(
                _Busy(busy_by_place.get((room_id, place), ()))
            )

    earliest = int(now.timestamp()) + 1
    latest = None
    if online:
        earliest = int((now + rules.online_lead_time).timestamp())
        latest = int((now + rules.online_horizon).timestamp())
    duration = service.duration_minutes * 60
    blocked = duration + service.buffer_after_minutes * 60
    grid = rules.slot_grid_minutes * 60

    found: dict[tuple[int, int], int] = {}
    for window in windows:
        busy = practitioner_busy.get(window.practitioner_id, _NOTHING_BUSY)
        places = places_by_location.get(window.location_id, ())
        for start in window.grid_starts(grid):
            if start < earliest or (latest is not None and start > latest):
                continue
            if start + duration > window.end:
                break
            end = start + blocked
            if busy.is_free(start, end) and any(p.is_free(start, end) for p in places):
                found.setdefault((start, window.practitioner_id), window.location_id)

    return [
        Slot(
            start=datetime.fromtimestamp(start, UTC),
            end=datetime.fromtimestamp(start + duration, UTC),
            practitioner_id=practitioner_id,
            location_id=location_id,
        )
        for (start, practitioner_id), location_id in sorted(found.items())
    ]
