"""A busy clinic for benchmarks: 20 practitioners on five-day rotas, ~90,000 appointments.

Import after `django.setup()`. `seed()` writes everything in one transaction, so a database
is either fully seeded or not at all; `is_seeded()` tells which, and `seeding()` what scale
was seeded on which day.

A `Scale` sets the number of locations and patients and how many days of diary lie behind
and ahead of today; the practitioners, their rotas and the services are the same at any
scale. `BUSY` (two locations, 2,500 patients, two years) is the default; `LARGE` has
three locations, 20,000 patients and about 105,000 appointments.

Appointments are generated rather than booked, but on a schedule that the exclusion
constraints accept: each practitioner's working time (the real `working_windows`, minus
leave) is filled one session after another on the 15-minute grid, each session gets the
first room place free at that time and a patient who has no other session that day.
Each day draws from its own `random.Random`, seeded with the date, and leave is laid out
from today both ways, so the weeks ahead come out the same whatever the history's length.
Rows are generated a day at a time and go in by COPY as they come.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import cycle, islice
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, models, transaction
from psycopg import sql

from accounts.models import User
from appointments.availability import WorkingWindow, working_windows
from appointments.models import Appointment, Source, Status
from bench.fixtures import (
    FIRST_NAMES,
    LOCATIONS,
    MELBOURNE_ZONE,
    PRACTITIONERS,
    SATURDAY_SHIFT,
    SERVICE_MIX,
    SURNAMES,
    WEEKDAY_SHIFTS,
    ensure_services,
)
from patients.models import Patient
from practice.models import (
    Break,
    ExtraHours,
    Leave,
    Location,
    Practitioner,
    Room,
    RoomKind,
    Service,
    WorkingHours,
)

SEED = 1729
MELBOURNE = ZoneInfo(MELBOURNE_ZONE)
TREATMENT_ROOMS_PER_LOCATION = 8
GYM_CAPACITY = 4
# The chance that each free grid time in a diary is taken: past diaries were nearly full;
# the coming fortnight is mostly booked, and it thins out towards the booking horizon.
PAST_FILL = 0.95
FORTNIGHT_FILL = 0.85
HORIZON_FILL = 0.35
# How often a session had replaced an earlier booking, cancelled, at the same time.
CANCELLED_AND_REBOOKED = 0.15
GRID = 15 * 60
# The diary is generated and COPYed this many days at a time: memory stays flat over decades.
DAYS_PER_READ = 28


@dataclass(frozen=True)
class Scale:
    """How big a clinic to seed. The practitioners and their rotas do not change with it."""

    locations: int = 2
    patients: int = 2500
    past_days: int = 674  # about 22 months of history and
    future_days: int = 56  # the online booking horizon ahead: two years in all


BUSY = Scale()
# The large clinic (bench/large_clinic.py): 825 days of history at about 121 appointments a
# day make 100,000 past appointments, and the eight weeks ahead about 5,000.
LARGE = Scale(locations=3, patients=20_000, past_days=825)


@dataclass(frozen=True)
class Seeding:
    """What `seed()` left in the database's comment: which scale, seeded on which day."""

    scale: Scale
    seeded_on: date


def is_seeded() -> bool:
    return Practitioner.objects.count() == len(PRACTITIONERS) and Appointment.objects.exists()


def seeding() -> Seeding | None:
    """The scale and day of the seed that wrote this database, if `seed()` did."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
            "WHERE datname = current_database()"
        )
        (comment,) = cursor.fetchone()
    try:
        marker = json.loads(comment or "")
        return Seeding(Scale(**marker["scale"]), date.fromisoformat(marker["seeded_on"]))
    except (ValueError, KeyError, TypeError):
        return None


def seed(today: date, scale: Scale = BUSY) -> dict[str, int]:
    """Seed an empty database; return how many of each thing it wrote."""
    if not 1 <= scale.locations <= len(LOCATIONS):
        raise ValueError(f"A benchmark clinic has 1 to {len(LOCATIONS)} locations.")
    with transaction.atomic():
        if Location.objects.exists():
            raise SystemExit(
                "The benchmark database already holds another clinic; run with --reseed."
            )
        locations = _seed_locations(scale.locations)
        services = ensure_services()
        practitioners = _seed_practitioners(locations, today, scale)
        patients = _seed_patients(scale.patients)
        diary = _Diary(services, practitioners, patients, today, scale)
        appointments = sum(copy_rows(Appointment, rows) for rows in diary.periods())
        _mark_seeded(Seeding(scale, today))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "practitioners": len(practitioners),
        "patients": len(patients),
        "appointments": appointments,
        "sessions dropped for want of a room": diary.dropped,
    }


def _mark_seeded(seeding: Seeding) -> None:
    marker = json.dumps({"scale": asdict(seeding.scale), "seeded_on": str(seeding.seeded_on)})
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        (name,) = cursor.fetchone()
        # COMMENT takes no bind parameters: the statement is composed with psycopg's quoting.
        statement = sql.SQL("COMMENT ON DATABASE {} IS {}").format(
            sql.Identifier(name), sql.Literal(marker)
        )
        cursor.execute(statement.as_string(connection.connection))


def _seed_locations(count: int) -> list[Location]:
    locations = []
    for spec in LOCATIONS[:count]:
        location = Location.objects.create(
            name=spec.name, address=spec.address, phone=spec.phone, time_zone=MELBOURNE_ZONE
        )
        rooms = [
            Room(location=location, name=f"Treatment room {n}", kind=RoomKind.TREATMENT)
            for n in range(1, TREATMENT_ROOMS_PER_LOCATION + 1)
        ]
        rooms.append(Room(location=location, name="Gym", kind=RoomKind.GYM, capacity=GYM_CAPACITY))
        Room.objects.bulk_create(rooms)
        locations.append(location)
    return locations


def _seed_practitioners(locations: list[Location], today: date, scale: Scale) -> list[Practitioner]:
    first_day = today - timedelta(days=scale.past_days)
    last_day = today + timedelta(days=scale.future_days)
    practitioners = []
    rota: list[WorkingHours] = []
    breaks: list[Break] = []
    leave: list[Leave] = []
    extra: list[ExtraHours] = []
    for index, (first, last, title, disciplines) in enumerate(PRACTITIONERS):
        email = f"{first}.{last}".lower().replace("'", "") + "@clinic.example"
        user = User(email=email, first_name=first, last_name=last, is_staff=True)
        user.set_unusable_password()
        user.save()
        practitioner = Practitioner.objects.create(
            user=user, title=title, disciplines=list(disciplines)
        )
        practitioners.append(practitioner)
        # Five days of Monday to Saturday. Two in three work at their home location; the
        # others go round the locations day by day, which keeps them about evenly staffed.
        home = locations[index % len(locations)]
        travels = (index // len(locations)) % 3 == 0
        for weekday in range(6):
            if weekday == index % 6:
                continue  # day off
            start, end, break_start, break_end = (
                SATURDAY_SHIFT
                if weekday == 5
                else WEEKDAY_SHIFTS[(index + weekday) % len(WEEKDAY_SHIFTS)]
            )
            line = WorkingHours(
                practitioner=practitioner,
                location=locations[(index + weekday) % len(locations)] if travels else home,
                weekday=weekday,
                start_time=start,
                end_time=end,
            )
            rota.append(line)
            breaks.append(Break(working_hours=line, start_time=break_start, end_time=break_end))
        leave += [
            Leave(practitioner=practitioner, start=start, end=end, reason="Annual leave")
            for start, end in _leave(index, today, first_day, last_day)
        ]
        # Now and then a one-off Sunday morning clinic, about three in two years.
        rng = random.Random(f"{SEED}:sundays:{index}")
        sundays = set()
        for _ in range(round(scale.past_days / 225)):
            day = today - timedelta(days=rng.randint(7, scale.past_days))
            sundays.add(day + timedelta(days=6 - day.weekday()))
        extra += [
            ExtraHours(
                practitioner=practitioner,
                location=home,
                date=sunday,
                start_time=time(9),
                end_time=time(13),
            )
            for sunday in sorted(sundays)
        ]
    WorkingHours.objects.bulk_create(rota)
    Break.objects.bulk_create(breaks)  # each now points at its saved rota line
    Leave.objects.bulk_create(leave)
    ExtraHours.objects.bulk_create(extra)
    return practitioners


def _leave(
    index: int, today: date, first_day: date, last_day: date
) -> Iterator[tuple[datetime, datetime]]:
    """A week or two of leave every four to seven months, whole days from midnight. Laid
    out from a day near today forwards and backwards, each way with its own dice, so that
    the leave ahead does not depend on how much history there is."""

    def away(day: date, rng: random.Random) -> tuple[datetime, datetime]:
        start = datetime.combine(day, time(), tzinfo=MELBOURNE)
        return start, start + timedelta(days=rng.choice((5, 7, 14)))

    ahead = random.Random(f"{SEED}:leave ahead:{index}")
    back = random.Random(f"{SEED}:leave back:{index}")
    anchor = today - timedelta(days=ahead.randint(0, 150))
    day = anchor
    while day < last_day:
        yield away(day, ahead)
        day += timedelta(days=ahead.randint(120, 200))
    day = anchor - timedelta(days=back.randint(120, 200))
    while day > first_day - timedelta(days=14):
        yield away(day, back)
        day -= timedelta(days=back.randint(120, 200))


def _seed_patients(count: int) -> list[int]:
    firsts, lasts = sorted(FIRST_NAMES), sorted(SURNAMES)
    # Past the 2,500 pairs of names, names repeat: namesakes are common in a big clinic.
    names = islice(cycle([(first, last) for last in lasts for first in firsts]), count)
    patients = [
        Patient(
            first_name=first,
            last_name=last,
            date_of_birth=date(1950, 1, 1) + timedelta(days=(n * 97) % (50 * 365)),
            email=f"{first}.{last}.{n}".lower().replace("'", "") + "@example.com",
        )
        for n, (first, last) in enumerate(names)
    ]
    return [p.pk for p in Patient.objects.bulk_create(patients, batch_size=1000)]


@dataclass(frozen=True, slots=True)
class _Session:
    practitioner_id: int
    location_id: int
    service: Service
    start: int  # epoch seconds
    end: int
    blocked_until: int


class _Diary:
    """The appointment rows of every day from `past_days` ago to `future_days` ahead."""

    def __init__(
        self,
        services: dict[str, Service],
        practitioners: list[Practitioner],
        patients: list[int],
        today: date,
        scale: Scale,
    ):
        self.services = services
        self.mixes = {p.pk: SERVICE_MIX[tuple(p.disciplines)] for p in practitioners}
        self.patients = patients
        self.today = today
        self.scale = scale
        self.now = datetime.now(UTC).timestamp()
        self.dropped = 0  # sessions that found no free room place
        # Leave is whole days from midnight: a window is lost if its day is one of them.
        self.on_leave: set[tuple[int, date]] = set()
        for practitioner_id, start, end in Leave.objects.values_list(
            "practitioner_id", "start", "end"
        ):
            day, last = start.astimezone(MELBOURNE).date(), end.astimezone(MELBOURNE).date()
            while day < last:
                self.on_leave.add((practitioner_id, day))
                day += timedelta(days=1)
        self.places: dict[tuple[int, str], list[tuple[int, int]]] = defaultdict(list)
        for room_id, location_id, kind, capacity in Room.objects.order_by("pk").values_list(
            "pk", "location_id", "kind", "capacity"
        ):
            self.places[location_id, kind] += [(room_id, n) for n in range(1, capacity + 1)]

    def periods(self) -> Iterator[list[dict[str, Any]]]:
        """The appointment rows, DAYS_PER_READ days at a time: a period's working windows
        must be read before its rows are COPYed, as no query can run during a COPY."""
        first = self.today - timedelta(days=self.scale.past_days)
        last = self.today + timedelta(days=self.scale.future_days)
        practitioner_ids = sorted(self.mixes)
        while first <= last:
            until = min(first + timedelta(days=DAYS_PER_READ - 1), last)
            by_day: dict[date, list[WorkingWindow]] = defaultdict(list)
            for window in working_windows(practitioner_ids, first, until):
                if (window.practitioner_id, window.day) not in self.on_leave:
                    by_day[window.day].append(window)
            yield [row for day in sorted(by_day) for row in self._day(day, by_day[day])]
            first = until + timedelta(days=1)

    def _day(self, day: date, windows: list[WorkingWindow]) -> Iterator[dict[str, Any]]:
        rng = random.Random(f"{SEED}:{day}")
        sessions = sorted(
            (
                session
                for window in sorted(windows, key=lambda w: (w.practitioner_id, w.start))
                for session in self._sessions(rng, window)
            ),
            key=lambda s: s.start,
        )
        free_from: dict[tuple[int, int], int] = defaultdict(int)
        patients_today = rng.sample(self.patients, len(sessions))
        for session, patient_id in zip(sessions, patients_today, strict=True):
            places = self.places[session.location_id, session.service.room_kind]
            place = next((p for p in places if free_from[p] <= session.start), None)
            if place is None:
                self.dropped += 1
                continue
            free_from[place] = session.blocked_until
            yield _row(rng, session, place, patient_id, self.now)
            if rng.random() < CANCELLED_AND_REBOOKED:
                other = rng.choice(self.patients)
                yield _row(rng, session, place, other, self.now, cancelled=True)

    def _sessions(self, rng: random.Random, window: WorkingWindow) -> Iterator[_Session]:
        """The window filled one session after another, some grid times left free."""
        mix = self.mixes[window.practitioner_id]
        keys, weights = [k for k, _ in mix], [w for _, w in mix]
        fill = self._fill((window.day - self.today).days)
        cursor = window.start
        while True:
            service = self.services[rng.choices(keys, weights)[0]]
            end = cursor + service.duration_minutes * 60
            if end > window.end:
                return
            blocked_until = end + service.buffer_after_minutes * 60
            next_start = -(-blocked_until // GRID) * GRID
            if rng.random() <= fill:
                yield _Session(
                    window.practitioner_id,
                    window.location_id,
                    service,
                    cursor,
                    end,
                    blocked_until,
                )
            cursor = next_start

    def _fill(self, days_ahead: int) -> float:
        if days_ahead < 0:
            return PAST_FILL
        if days_ahead <= 14:
            return FORTNIGHT_FILL
        thinning = (days_ahead - 14) / max(self.scale.future_days - 14, 1)
        return FORTNIGHT_FILL - (FORTNIGHT_FILL - HORIZON_FILL) * thinning


def _row(
    rng: random.Random,
    session: _Session,
    place: tuple[int, int],
    patient_id: int,
    now: float,
    *,
    cancelled: bool = False,
) -> dict[str, Any]:
    start = datetime.fromtimestamp(session.start, UTC)
    end = datetime.fromtimestamp(session.end, UTC)
    past = session.start < now
    roll = rng.random()
    if cancelled:
        status = Status.LATE_CANCELLED if roll < 0.3 else Status.CANCELLED
    elif not past:
        status = Status.BOOKED
    elif roll < 0.04:
        status = Status.NO_SHOW
    elif roll < 0.07:
        status = Status.LATE_CANCELLED
    else:
        status = Status.COMPLETED
    booked_at = start - timedelta(days=rng.randint(1, 28))
    cancelled_at = None
    if status == Status.LATE_CANCELLED:
        cancelled_at = max(booked_at, start - timedelta(hours=rng.randint(2, 20)))
    elif status == Status.CANCELLED:
        cancelled_at = max(booked_at, start - timedelta(hours=rng.randint(25, 200)))
    online = roll < 0.4 and session.service.bookable_online
    return {
        "patient_id": patient_id,
        "practitioner_id": session.practitioner_id,
        "service_id": session.service.pk,
        "location_id": session.location_id,
        "room_id": place[0],
        "room_place": place[1],
        "start": start,
        "end": end,
        "blocked_until": datetime.fromtimestamp(session.blocked_until, UTC),
        "price": session.service.price,
        "status": status.value,
        "source": (Source.ONLINE if online else Source.RECEPTION).value,
        "note": "",
        "created_at": booked_at,
        "updated_at": cancelled_at or (end if past else booked_at),
        "checked_in_at": start - timedelta(minutes=5) if status == Status.COMPLETED else None,
        "completed_at": end if status == Status.COMPLETED else None,
        "cancelled_at": cancelled_at,
        "cancellation_reason": "Called to cancel" if cancelled_at else "",
    }


def copy_rows(model: type[models.Model], rows: Iterable[dict[str, Any]]) -> int:
    """COPY the rows, dicts by column name, into the model's table; return how many went in.
    A column missing from a row takes the field's default, as `Model()` would give it, so a
    field added to the model later does not break the seed."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    fixed = {f.column: f.get_default() for f in fields if not callable(f.default)}
    per_row = [f for f in fields if callable(f.default)]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    statement = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
    count = 0
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            defaults = fixed | {f.column: f.get_default() for f in per_row}
            copy.write_row([row.get(f.column, defaults[f.column]) for f in fields])
            count += 1
    return count
