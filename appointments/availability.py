"""Free slots: the rota, minus breaks, leave and booked time, where a room is still free.

The API, the admin and the booking services all ask these functions, so what a patient is
offered and what the clinic accepts cannot drift apart. They read a fixed number of queries
whatever the window or the number of practitioners, and then work on integer epoch seconds,
which keeps a clinic-wide fortnight to a few tens of milliseconds.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.fields import ArrayField
from django.db.models import (
    BigIntegerField,
    BooleanField,
    DateField,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    TimeField,
    Value,
)
from django.db.models.functions import Cast
from django.utils import timezone

from kernel.compiled import CompiledQuery
from practice.models import (
    BookingRules,
    Break,
    ExtraHours,
    Leave,
    Location,
    Practitioner,
    Room,
    Service,
    WorkingHours,
)

from .models import OCCUPYING_STATUSES, Appointment, ClassStatus, GroupClass, SlotHold

# No appointment lasts longer than this (a database check says so), which lets a window's
# overlapping appointments be found with a bounded index range scan on `start`.
MAX_APPOINTMENT_SPAN = timedelta(hours=24)


class Epoch(Func):
    """A timestamp as whole seconds since 1970 (UTC)."""

    template = "EXTRACT(EPOCH FROM %(expressions)s)::bigint"
    output_field = BigIntegerField()


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

    def grid_starts(self, grid_seconds: int) -> Sequence[int]:
        """Epoch seconds of every grid time on the local clock inside the window, ascending.

        A wall-clock time that daylight saving skips is not offered; one it repeats is
        offered once, at its first occurrence.
        """
        first = -(-self.start_second // grid_seconds) * grid_seconds
        if self.end - self.start == self.end_second - self.start_second:
            # No clock change inside the window: local seconds map 1:1 onto epoch seconds.
            midnight = self.start - self.start_second
            return range(midnight + first, midnight + self.end_second, grid_seconds)
        midnight_wall = datetime.combine(self.day, time())
        starts = []
        for second in range(first, self.end_second, grid_seconds):
            wall = midnight_wall + timedelta(seconds=second)
            instant = wall.replace(tzinfo=self.zone).astimezone(UTC)
            if instant.astimezone(self.zone).replace(tzinfo=None) == wall:
                starts.append(int(instant.timestamp()))
        return starts


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
        return self.busy_until(start, end) is None

    def busy_until(self, start: int, end: int) -> int | None:
        """When the busy interval overlapping [start, end) ends; None if nothing overlaps."""
        i = bisect_left(self.starts, end) - 1
        return self.ends[i] if i >= 0 and self.ends[i] > start else None


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


def _window(
    practitioner_id: int, location_id: int, zone: ZoneInfo, day: date, start: int, end: int
):
    return WorkingWindow(
        practitioner_id=practitioner_id,
        location_id=location_id,
        day=day,
        zone=zone,
        start_second=start,
        end_second=end,
        # Wall-clock seconds, not a wall-clock time: a shift start in the skipped hour
        # still lands at a real instant.
        start=_epoch(day, start, zone),
        end=_epoch(day, end, zone),
    )


@dataclass(frozen=True, slots=True)
class _RotaLine:
    practitioner_id: int
    location_id: int
    zone: ZoneInfo
    valid_from: date | None
    valid_until: date | None
    pieces: tuple[tuple[int, int], ...]  # the shift minus its breaks, in local seconds

    def applies_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )


def working_windows(
    practitioner_ids: Iterable[int] | QuerySet,
    start_date: date,
    end_date: date,
    *,
    location_id: int | None = None,
    days: Collection[date] | None = None,
) -> list[WorkingWindow]:
    """The practitioners' working time on each local date from start_date to end_date (or
    only on those of them in `days`).

    Weekly rota lines valid on the date, minus their breaks, plus one-off extra hours.
    `practitioner_ids` may be a queryset of ids, which then runs as a subquery.
    One query (`_working_hours`), read as plain values: this runs on every availability
    request and every booking.
    """
    zones: dict[str, ZoneInfo] = {}
    rota_by_weekday: dict[int, list[_RotaLine]] = defaultdict(list)
    windows: list[WorkingWindow] = []
    for row in _working_hours(practitioner_ids, start_date, end_date, location_id):
        (practitioner_id, line_location_id, zone_name, weekday, on, start, end) = row[:7]
        zone = zones.setdefault(zone_name, ZoneInfo(zone_name))
        if weekday is None:  # extra hours, on one date
            if days is not None and on not in days:
                continue
            windows.append(
                _window(practitioner_id, line_location_id, zone, on, _seconds(start), _seconds(end))
            )
            continue
        since, until, break_starts, break_ends = row[7:]
        breaks = [(_seconds(a), _seconds(b)) for a, b in zip(break_starts, break_ends, strict=True)]
        pieces = tuple(_subtract(_seconds(start), _seconds(end), breaks))
        rota_by_weekday[weekday].append(
            _RotaLine(practitioner_id, line_location_id, zone, since, until, pieces)
        )

    if days is None:
        dates = (start_date + timedelta(days=n) for n in range((end_date - start_date).days + 1))
    else:
        dates = (day for day in sorted(days) if start_date <= day <= end_date)
    for day in dates:
        for line in rota_by_weekday.get(day.weekday(), ()):
            if line.applies_on(day):
                windows.extend(
                    _window(line.practitioner_id, line.location_id, line.zone, day, start, end)
                    for start, end in line.pieces
                )
    return windows


# The columns of `_working_hours`, the same on both sides of its UNION: a rota line has a
# weekday, validity dates and its breaks; extra hours have a date.
_HOURS_COLUMNS = (
    "hours_practitioner",
    "hours_location",
    "hours_zone",
    "hours_weekday",
    "hours_date",
    "hours_start",
    "hours_end",
    "hours_since",
    "hours_until",
    "break_starts",
    "break_ends",
)


def _working_hours(
    practitioner_ids: Iterable[int] | QuerySet,
    start_date: date,
    end_date: date,
    location_id: int | None,
) -> list[tuple]:
    """The rota lines that may apply between the dates, each with its breaks (start and end
    times, by start), and the extra hours on those dates, at active locations: one query.
    For one practitioner (every booking asks so) its SQL is compiled once."""
    if isinstance(practitioner_ids, list | tuple) and len(practitioner_ids) == 1:
        values = {"practitioner": practitioner_ids[0], "first": start_date, "last": end_date}
        if location_id is not None:
            values["location"] = location_id
        return _ONE_PRACTITIONERS_HOURS.rows(location_id is not None, **values)
    return list(_hours_query(practitioner_ids, start_date, end_date, location_id))


def _hours_query(
    practitioner_ids: Iterable[int] | QuerySet,
    start_date: date,
    end_date: date,
    location_id: int | None,
) -> QuerySet:
    rota = (
        WorkingHours.objects.filter(practitioner_id__in=practitioner_ids, location__is_active=True)
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=end_date))
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=start_date))
    )
    extra = ExtraHours.objects.filter(
        practitioner_id__in=practitioner_ids,
        date__range=(start_date, end_date),
        location__is_active=True,
    )
    if location_id is not None:
        rota = rota.filter(location_id=location_id)
        extra = extra.filter(location_id=location_id)
    breaks = Break.objects.filter(working_hours=OuterRef("pk")).order_by("start_time", "pk")
    no_date = Value(None, output_field=DateField())
    no_times = Cast(Value("{}"), output_field=ArrayField(TimeField()))
    rota = rota.annotate(
        hours_practitioner=F("practitioner_id"),
        hours_location=F("location_id"),
        hours_zone=F("location__time_zone"),
        hours_weekday=F("weekday"),
        hours_date=no_date,
        hours_start=F("start_time"),
        hours_end=F("end_time"),
        hours_since=F("valid_from"),
        hours_until=F("valid_until"),
        break_starts=ArraySubquery(breaks.values("start_time")),
        break_ends=ArraySubquery(breaks.values("end_time")),
    )
    extra = extra.annotate(
        hours_practitioner=F("practitioner_id"),
        hours_location=F("location_id"),
        hours_zone=F("location__time_zone"),
        hours_weekday=Value(None, output_field=IntegerField()),
        hours_date=F("date"),
        hours_start=F("start_time"),
        hours_end=F("end_time"),
        hours_since=no_date,
        hours_until=no_date,
        break_starts=no_times,
        break_ends=no_times,
    )
    return (
        rota.order_by()
        .values_list(*_HOURS_COLUMNS)
        .union(extra.order_by().values_list(*_HOURS_COLUMNS), all=True)
    )


_ONE_PRACTITIONERS_HOURS = CompiledQuery(
    lambda at_location, *, practitioner, first, last, location=None: _hours_query(
        [practitioner], first, last, location
    )
)


def practitioners_for(service: Service) -> Q:
    """Active practitioners whose disciplines deliver the service."""
    return practitioners_of(service.disciplines)


def practitioners_of(disciplines: Iterable[str]) -> Q:
    """Active practitioners of any of these disciplines: who delivers a service of them."""
    return Q(is_active=True, disciplines__overlap=list(disciplines))


def is_offered(service: Service, *, online: bool) -> bool:
    """Whether `service` has any slots at all: an active one, online only if bookable so."""
    return service.is_active and (service.bookable_online or not online)


def start_bounds(
    now: datetime, *, online: bool, lead_time: timedelta, horizon: timedelta
) -> tuple[int, int | None]:
    """The earliest and latest start offered at `now`, in epoch seconds (None: no latest).

    Staff are offered any start after now; patients online, starts between the lead time
    and the horizon (`lead_time` and `horizon` are the booking rules').
    """
    if online:
        return int((now + lead_time).timestamp()), int((now + horizon).timestamp())
    return int(now.timestamp()) + 1, None


@dataclass(frozen=True, slots=True)
class FreeStarts:
    """Free slots as plain numbers: `starts` holds (start in epoch seconds, practitioner id,
    location id), sorted; `zones` each location's zone; `duration` is in seconds."""

    starts: list[tuple[int, int, int]]
    zones: dict[int, ZoneInfo]
    duration: int
    # When the first of the holds that the answer leaves out expires (epoch seconds): from
    # then on it offers too little, though the diary has not changed (`slot_cache`).
    holds_expire: int | None = None


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
    bookable online, and the start must lie between the lead time and the horizon. Staff
    (not `online`) also find the times the clinic holds to offer to the waitlist, which
    they may book over (`offered_times` says which those are).
    Dates are local dates at each location; the result is sorted by start, then practitioner.
    """
    now = now or timezone.now()
    rules = BookingRules.current()
    if not is_offered(service, online=online):
        return []
    earliest, latest = start_bounds(
        now, online=online, lead_time=rules.online_lead_time, horizon=rules.online_horizon
    )
    found = free_starts(
        service,
        start_date,
        end_date,
        practitioner,
        location,
        grid_minutes=rules.slot_grid_minutes,
        earliest=earliest,
        latest=latest,
        now=now,
        over_offers=not online,
    )
    return [
        Slot(
            start=datetime.fromtimestamp(start, UTC),
            end=datetime.fromtimestamp(start + found.duration, UTC),
            practitioner_id=practitioner_id,
            location_id=location_id,
        )
        for start, practitioner_id, location_id in found.starts
    ]


_ITS_ROOM_PLACE = F("room_place")


_NOT_AN_OFFER = Value(False, output_field=BooleanField())


def _taken(
    rows: QuerySet,
    practitioner_ids: list[int],
    room_ids: list[int],
    span,
    *,
    expires,
    place=_ITS_ROOM_PLACE,
    offer=_NOT_AN_OFFER,
) -> QuerySet:
    """The time that `rows` (appointments, holds, or group classes) take from these
    practitioners and room places over `span`: (practitioner, room, place, from, until,
    expires, offer), the times as epoch seconds straight from PostgreSQL (parsing thousands
    of timestamps in Python would cost more than the query itself). A class takes its whole
    room: its `place` is None. `offer`: a hold the clinic made to offer the time."""
    return (
        rows.filter(
            Q(practitioner_id__in=practitioner_ids) | Q(room_id__in=room_ids),
            start__gt=span[0] - MAX_APPOINTMENT_SPAN,
            start__lt=span[1],
            blocked_until__gt=span[0],
        )
        .order_by()
        .annotate(
            taken_place=place,
            busy_from=Epoch("start"),
            busy_until=Epoch("blocked_until"),
            expires=expires,
            offer=offer,
        )
        .values_list(
            "practitioner_id",
            "room_id",
            "taken_place",
            "busy_from",
            "busy_until",
            "expires",
            "offer",
        )
    )


def free_starts(
    service: Service,
    start_date: date,
    end_date: date,
    practitioner: Practitioner | int | None = None,
    location: Location | int | None = None,
    *,
    grid_minutes: int,
    earliest: int | None = None,
    latest: int | None = None,
    now: datetime | None = None,
    days: Collection[date] | None = None,
    only: Collection[int] | None = None,
    over_offers: bool = False,
) -> FreeStarts:
    """The search behind `free_slots`, on `grid_minutes`, whatever the service's state:
    starts from `earliest` to `latest` (epoch seconds, inclusive), or every start of the
    dates when they are None; with `days`, only on those of the dates (a course's visit
    days, months apart); with `only`, only those starts (epoch seconds) of the grid. A
    start is free or not whatever the bounds, so bounding the result later gives what
    bounding the search gives. Holds live at `now` (the clock's time when None) take their
    time as bookings do; with `over_offers` (staff, who book over them: see
    `services.book_appointment`) a hold the clinic made to offer a practitioner's time takes
    nothing from that practitioner, and its room place from everyone else.
    """
    now = now or timezone.now()
    duration = service.duration_minutes * 60
    practitioners = Practitioner.objects.filter(practitioners_for(service))
    if practitioner is not None:
        practitioners = practitioners.filter(pk=getattr(practitioner, "pk", practitioner))
    location_id = getattr(location, "pk", location)
    windows = working_windows(
        practitioners.order_by().values("pk"),
        start_date,
        end_date,
        location_id=location_id,
        days=days,
    )
    if not windows:
        return FreeStarts([], {}, duration)
    practitioner_ids = list({w.practitioner_id for w in windows})

    span_start = min(w.start for w in windows)
    span_end = max(w.end for w in windows)
    span = (
        datetime.fromtimestamp(span_start, UTC),
        datetime.fromtimestamp(span_end + service.buffer_after_minutes * 60, UTC),
    )
    location_ids = {w.location_id for w in windows}
    rooms = list(
        Room.objects.filter(kind=service.room_kind, is_active=True, location_id__in=location_ids)
        .order_by()
        .values_list("pk", "location_id", "capacity")
    )
    room_ids = [room_id for room_id, _, _ in rooms]

    busy_by_practitioner: dict[int, list[tuple[int, int]]] = defaultdict(list)
    busy_by_place: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    # One round trip for booked time, live holds and leave (their UNION below).
    no_expiry = Value(None, output_field=BigIntegerField())
    booked = _taken(
        Appointment.objects.filter(status__in=OCCUPYING_STATUSES),
        practitioner_ids,
        room_ids,
        span,
        expires=no_expiry,
    )
    held = _taken(
        SlotHold.objects.filter(expires_at__gt=now),
        practitioner_ids,
        room_ids,
        span,
        expires=Epoch("expires_at"),
        offer=F("for_offer") if over_offers else _NOT_AN_OFFER,
    )
    teaching = _taken(
        GroupClass.objects.filter(status=ClassStatus.SCHEDULED),
        practitioner_ids,
        room_ids,
        span,
        expires=no_expiry,
        place=Value(None, output_field=IntegerField()),
    )
    away = (
        Leave.objects.filter(
            practitioner_id__in=practitioner_ids, start__lt=span[1], end__gt=span[0]
        )
        .order_by()
        .annotate(
            no_room=Value(None, output_field=BigIntegerField()),
            no_place=Value(None, output_field=IntegerField()),
            busy_from=Epoch("start"),
            busy_until=Epoch("end"),
            expires=Value(None, output_field=BigIntegerField()),
            offer=_NOT_AN_OFFER,
        )
        .values_list(
            "practitioner_id", "no_room", "no_place", "busy_from", "busy_until", "expires", "offer"
        )
    )
    holds_expire: int | None = None
    busy_by_room: dict[int, list[tuple[int, int]]] = defaultdict(list)  # every place of it
    # Offers' holds, when staff book over them: (practitioner, room, place, from, until).
    offered: list[tuple[int, int, int, int, int]] = []
    rows = booked.union(held, teaching, away, all=True)
    for practitioner_id, room_id, place, start, end, expires, offer in rows:
        if expires is not None:
            holds_expire = expires if holds_expire is None else min(holds_expire, expires)
        if offer:
            offered.append((practitioner_id, room_id, place, start, end))
            continue
        busy_by_practitioner[practitioner_id].append((start, end))
        if room_id is not None and place is None:
            busy_by_room[room_id].append((start, end))
        elif room_id is not None:
            busy_by_place[room_id, place].append((start, end))

    practitioner_busy = {pid: _Busy(iv) for pid, iv in busy_by_practitioner.items()}

    def places_for(practitioner_id: int | None) -> dict[int, list[_Busy]]:
        """Every room place by location, busy as the practitioner finds it: the places that
        others' offers hold are taken, those of the practitioner's own offers free."""
        by_place = defaultdict(list, busy_by_place)
        for offered_by, room_id, place, start, end in offered:
            if offered_by != practitioner_id:
                by_place[room_id, place] = [*by_place[room_id, place], (start, end)]
        places: dict[int, list[_Busy]] = defaultdict(list)
        for room_id, room_location_id, capacity in rooms:
            for place in range(1, capacity + 1):
                places[room_location_id].append(
                    _Busy([*by_place.get((room_id, place), ()), *busy_by_room.get(room_id, ())])
                )
        return places

    places_by_location = places_for(None)
    # Only the few practitioners whose time is offered see the rooms otherwise.
    own_places = {offered_by: places_for(offered_by) for offered_by, *_ in offered}

    blocked = duration + service.buffer_after_minutes * 60
    grid = grid_minutes * 60
    asked = sorted(only) if only is not None else None

    found: dict[tuple[int, int], int] = {}
    for window in windows:
        busy = practitioner_busy.get(window.practitioner_id, _NOTHING_BUSY)
        places = own_places.get(window.practitioner_id, places_by_location).get(
            window.location_id, ()
        )
        starts = window.grid_starts(grid)
        if asked is not None:
            inside = asked[bisect_left(asked, window.start) : bisect_right(asked, window.end)]
            starts = [start for start in inside if start in starts]
        k = 0 if earliest is None else bisect_left(starts, earliest)
        stop = bisect_right(starts, window.end - duration)
        if latest is not None:
            stop = min(stop, bisect_right(starts, latest))
        while k < stop:
            start = starts[k]
            end = start + blocked
            taken_until = busy.busy_until(start, end)
            if taken_until is not None:
                # Every start before the end of that booking overlaps it too: skip them.
                k = bisect_left(starts, taken_until, k + 1)
                continue
            if any(place.is_free(start, end) for place in places):
                found.setdefault((start, window.practitioner_id), window.location_id)
            k += 1

    return FreeStarts(
        starts=[(start, pid, lid) for (start, pid), lid in sorted(found.items())],
        zones={w.location_id: w.zone for w in windows},
        duration=duration,
        holds_expire=holds_expire,
    )
