"""A busy clinic for benchmarks: 20 practitioners, two locations, ~90,000 appointments.

Import after `django.setup()`. `seed()` writes everything in one transaction, so a database
is either fully seeded or not at all; `is_seeded()` tells which.

Appointments are generated rather than booked, but on a schedule that the exclusion
constraints accept: each practitioner's working time (the real `working_windows`, minus
leave) is filled one session after another on the 15-minute grid, each session gets the
first room place free at that time and a patient who has no other session that day.
Rows go in by COPY.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction

from accounts.models import User
from appointments.availability import working_windows
from appointments.demo.data import LOCATIONS, PATIENT_NAMES
from appointments.demo.seed import ensure_services
from appointments.models import Appointment, Source, Status
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
MELBOURNE = ZoneInfo("Australia/Melbourne")
PAST_DAYS = 674  # about 22 months of history and
FUTURE_DAYS = 56  # the online booking horizon ahead: two years in all
PATIENT_COUNT = 2500
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

PRACTITIONERS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    # first name, last name, title, disciplines
    ("Sophie", "Nguyen", "Myotherapist", ("myotherapy",)),
    ("James", "O'Connor", "Senior myotherapist", ("myotherapy",)),
    ("Mei", "Chen", "Myotherapist", ("myotherapy",)),
    ("Tom", "Gallagher", "Myotherapist", ("myotherapy",)),
    ("Elena", "Kostas", "Myotherapist", ("myotherapy",)),
    ("Raj", "Menon", "Myotherapist", ("myotherapy",)),
    ("Claire", "Dunn", "Myotherapist", ("myotherapy",)),
    ("Nathan", "Brooks", "Myotherapist", ("myotherapy",)),
    ("Yuki", "Sato", "Myotherapist", ("myotherapy",)),
    ("Fiona", "McKenzie", "Myotherapist", ("myotherapy",)),
    ("Daniel", "Vu", "Myotherapist", ("myotherapy",)),
    ("Laura", "Bianchi", "Senior myotherapist", ("myotherapy",)),
    ("Luca", "Romano", "NMPT coach", ("nmpt",)),
    ("Ben", "Walsh", "NMPT coach", ("nmpt",)),
    ("Tahlia", "Scott", "NMPT coach", ("nmpt",)),
    ("Marcus", "Lee", "NMPT coach", ("nmpt",)),
    ("Jess", "Hartley", "NMPT coach", ("nmpt",)),
    ("Aisha", "Rahman", "NMPT coach and myotherapist", ("nmpt", "myotherapy")),
    ("Hannah", "Fletcher", "Sciatica specialist", ("sciatica", "myotherapy")),
    ("Omar", "Saleh", "Sciatica specialist", ("sciatica",)),
)

# Wall-clock shifts: start, end, break start, break end.
WEEKDAY_SHIFTS = (
    (time(7), time(17), time(11, 30), time(12)),
    (time(8), time(18), time(12, 30), time(13)),
    (time(9, 30), time(19, 30), time(14), time(14, 30)),
)
SATURDAY_SHIFT = (time(8), time(16), time(12), time(12, 30))

# Which services each mix of disciplines books, with weights.
SERVICE_MIX: dict[tuple[str, ...], tuple[tuple[str, int], ...]] = {
    ("myotherapy",): (("smm_45", 5), ("smm_60", 2), ("maintenance", 2), ("assessment", 1)),
    ("nmpt",): (("nmpt", 1),),
    ("nmpt", "myotherapy"): (("nmpt", 3), ("smm_45", 2), ("assessment", 1)),
    ("sciatica", "myotherapy"): (("sciatica", 3), ("assessment", 2), ("smm_60", 1)),
    ("sciatica",): (("sciatica", 2), ("assessment", 1)),
}


def is_seeded() -> bool:
    return Practitioner.objects.count() == len(PRACTITIONERS) and Appointment.objects.exists()


def seed(today: date) -> dict[str, int]:
    """Seed an empty database; return how many of each thing it wrote."""
    rng = random.Random(SEED)
    with transaction.atomic():
        if Location.objects.exists():
            raise SystemExit(
                "The benchmark database already holds another clinic; run with --reseed."
            )
        locations = _seed_locations()
        services = ensure_services()
        practitioners = _seed_practitioners(rng, locations, today)
        patients = _seed_patients()
        sessions = _plan_sessions(rng, services, practitioners, today)
        rows, dropped = _appointment_rows(rng, sessions, patients)
        _copy(Appointment, rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "practitioners": len(practitioners),
        "patients": len(patients),
        "appointments": len(rows),
        "sessions dropped for want of a room": dropped,
    }


def _seed_locations() -> list[Location]:
    locations = []
    for spec in LOCATIONS:
        location = Location.objects.create(
            name=spec.name, address=spec.address, phone=spec.phone, time_zone=spec.time_zone
        )
        rooms = [
            Room(location=location, name=f"Treatment room {n}", kind=RoomKind.TREATMENT)
            for n in range(1, TREATMENT_ROOMS_PER_LOCATION + 1)
        ]
        rooms.append(Room(location=location, name="Gym", kind=RoomKind.GYM, capacity=GYM_CAPACITY))
        Room.objects.bulk_create(rooms)
        locations.append(location)
    return locations


def _seed_practitioners(
    rng: random.Random, locations: list[Location], today: date
) -> list[Practitioner]:
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
        # others alternate day by day, which keeps both locations about evenly staffed.
        home = locations[index % 2]
        travels = index % 3 == 0
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
                location=locations[(index + weekday) % 2] if travels else home,
                weekday=weekday,
                start_time=start,
                end_time=end,
            )
            rota.append(line)
            breaks.append(Break(working_hours=line, start_time=break_start, end_time=break_end))
        # A week or two of leave every four to seven months.
        day = today - timedelta(days=PAST_DAYS - rng.randint(20, 120))
        while day < today + timedelta(days=FUTURE_DAYS):
            start = datetime.combine(day, time(), tzinfo=MELBOURNE)
            leave.append(
                Leave(
                    practitioner=practitioner,
                    start=start,
                    end=start + timedelta(days=rng.choice((5, 7, 14))),
                    reason="Annual leave",
                )
            )
            day += timedelta(days=rng.randint(120, 200))
        # Now and then a one-off Sunday morning clinic.
        sundays = set()
        for _ in range(3):
            day = today - timedelta(days=rng.randint(0, PAST_DAYS))
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


def _seed_patients() -> list[int]:
    firsts = sorted({first for first, _ in PATIENT_NAMES})
    lasts = sorted({last for _, last in PATIENT_NAMES})
    names = [(first, last) for last in lasts for first in firsts][:PATIENT_COUNT]
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
    day: date
    start: int  # epoch seconds
    end: int
    blocked_until: int


def _plan_sessions(
    rng: random.Random,
    services: dict[str, Service],
    practitioners: list[Practitioner],
    today: date,
) -> list[_Session]:
    """Each practitioner's working time filled with sessions, in start order per day."""
    by_id = {p.pk: p for p in practitioners}
    away: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for practitioner_id, start, end in Leave.objects.values_list("practitioner_id", "start", "end"):
        away[practitioner_id].append((start.timestamp(), end.timestamp()))
    windows = working_windows(
        list(by_id), today - timedelta(days=PAST_DAYS), today + timedelta(days=FUTURE_DAYS)
    )
    sessions: list[_Session] = []
    for window in windows:
        if any(s < window.end and window.start < e for s, e in away[window.practitioner_id]):
            continue
        mix = SERVICE_MIX[tuple(by_id[window.practitioner_id].disciplines)]
        keys, weights = [k for k, _ in mix], [w for _, w in mix]
        fill = _fill((window.day - today).days)
        cursor = window.start
        while True:
            service = services[rng.choices(keys, weights)[0]]
            end = cursor + service.duration_minutes * 60
            if end > window.end:
                break
            blocked_until = end + service.buffer_after_minutes * 60
            next_start = -(-blocked_until // GRID) * GRID
            if rng.random() > fill:
                cursor = next_start  # a slot nobody booked
                continue
            sessions.append(
                _Session(
                    window.practitioner_id,
                    window.location_id,
                    service,
                    window.day,
                    cursor,
                    end,
                    blocked_until,
                )
            )
            cursor = next_start
    sessions.sort(key=lambda s: (s.day, s.start))
    return sessions


def _fill(days_ahead: int) -> float:
    if days_ahead < 0:
        return PAST_FILL
    if days_ahead <= 14:
        return FORTNIGHT_FILL
    return FORTNIGHT_FILL - (FORTNIGHT_FILL - HORIZON_FILL) * (days_ahead - 14) / (FUTURE_DAYS - 14)


def _appointment_rows(
    rng: random.Random, sessions: list[_Session], patients: list[int]
) -> tuple[list[dict[str, Any]], int]:
    """Give each session a free room place and a patient; return the rows and how many
    sessions found no free place (and were dropped)."""
    places: dict[tuple[int, str], list[tuple[int, int]]] = defaultdict(list)
    for room_id, location_id, kind, capacity in Room.objects.values_list(
        "pk", "location_id", "kind", "capacity"
    ):
        places[location_id, kind] += [(room_id, place) for place in range(1, capacity + 1)]

    now = datetime.now(UTC).timestamp()
    rows: list[dict[str, Any]] = []
    dropped = 0
    by_day: dict[date, list[_Session]] = defaultdict(list)
    for session in sessions:
        by_day[session.day].append(session)
    for day_sessions in by_day.values():
        free_from: dict[tuple[int, int], int] = defaultdict(int)
        patients_today = rng.sample(patients, len(day_sessions))
        for session, patient_id in zip(day_sessions, patients_today, strict=True):
            kind = session.service.room_kind
            place = next(
                (p for p in places[session.location_id, kind] if free_from[p] <= session.start),
                None,
            )
            if place is None:
                dropped += 1
                continue
            free_from[place] = session.blocked_until
            rows.append(_row(rng, session, place, patient_id, now))
            if rng.random() < CANCELLED_AND_REBOOKED:
                other = rng.choice(patients)
                rows.append(_row(rng, session, place, other, now, cancelled=True))
    return rows, dropped


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


def _copy(model: type[Appointment], rows: list[dict[str, Any]]) -> None:
    """COPY the rows in (columns missing from a row are NULL)."""
    columns = [f.column for f in model._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    statement = (
        f"COPY {quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    )
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([row.get(column) for column in columns])
