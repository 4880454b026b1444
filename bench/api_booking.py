"""The HTTP benchmark's booking workloads: booking free slots (beside pgbench running the
same INSERTs, and a trivial POST), moving and cancelling what was booked, and many patients
asking for the same slots at once (beside uncontested booking).

Import after `django.setup()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bench import pgbench_booking
from bench.api_phases import UNTIL_THE_CLOCK, WARMUP, Load, Workload, throughput_against
from bench.bookings import (
    BENCH_EMAIL_DOMAIN,
    Booking,
    assessed_patients_with_logins,
    plan_bookings,
    token_for,
)
from bench.load import Phase, post

BOOK = "/api/v1/appointments/"
TRIVIAL = "/bench/trivial/"
TRIVIAL_POST_RATIO = 0.4  # HTTP booking against a trivial signed-in POST
RESCHEDULE_RATIO = 0.8  # moving a booking against booking one
BOOKING_STATEMENTS = 10  # SQL statements of one online booking, its messages included
LIST_PATIENTS = 50


@dataclass
class Plan:
    """Every slot the run books, planned before it starts so that none collides with
    another: the bookings, the free slots they then move to, the contested slots and the
    patients who contend for them; and the logins that read lists."""

    bookings: list[Booking]
    targets: list[Booking]
    contested: list[Booking]
    contenders: list[int]  # patient ids, `contenders per slot - 1` for each contested slot
    tokens_of: dict[int, str] = field(repr=False)  # by patient id
    list_users: list = field(repr=False)


def plan_run(service, requests: int, contested_slots: int, contenders_per_slot: int) -> Plan:
    """The slots and the patients for `requests` bookings and as many moves, and for
    `contested_slots` slots each asked for by `contenders_per_slot` patients."""
    wanted = WARMUP + 2 * requests + contested_slots
    others = contenders_per_slot - 1
    patients = assessed_patients_with_logins(wanted + contested_slots * others)
    planned = plan_bookings(service, patients[:wanted], wanted)
    contenders = patients[wanted:]
    if len(planned) < wanted:
        requests = (len(planned) - WARMUP - contested_slots) // 2
        print(f"Booking {requests} then, and moving each to one of as many others.")
    tokens_of = {b.patient_id: b.token for b in planned}
    tokens_of |= {p.pk: token_for(p.user) for p in contenders}
    return Plan(
        bookings=planned[: WARMUP + requests],
        targets=planned[WARMUP + requests : WARMUP + 2 * requests],
        contested=planned[WARMUP + 2 * requests :][:contested_slots],
        contenders=[p.pk for p in contenders],
        tokens_of=tokens_of,
        list_users=[p.user for p in patients[:LIST_PATIENTS]],
    )


def booking(load: Load, database_url: str, plan: Plan) -> tuple[list[Workload], Phase, dict]:
    """The database's own limit (pgbench), the framework's floor (a trivial POST), then
    booking itself; returns the workloads, the booking phase and pgbench's figures."""
    from django.db import connection

    database_limit = pgbench_booking.run(
        database_url, clients=load.users, seconds=int(load.seconds)
    )
    print(f"  pgbench booking INSERTs, {load.users} clients: {database_limit}")
    pgbench_booking.cleanup()
    connection.close()
    bookings = plan.bookings
    trivial_post = load.measure(
        "trivial POST, signed in",
        [
            post(TRIVIAL, bookings[0].body, bookings[i % len(bookings)].token)
            for i in range(UNTIL_THE_CLOCK)
        ],
    )
    load.measure("warm-up", [post(BOOK, b.body, b.token) for b in bookings[:WARMUP]])
    booked = load.measure(
        "book a free slot", [post(BOOK, b.body, b.token) for b in bookings[WARMUP:]]
    )
    # The database's own limit, for context: an HTTP booking does far more than its INSERTs.
    against_pgbench = Workload(
        phase=booked,
        baseline_name=f"pgbench, {load.users} clients",
        baseline_figure=f"{database_limit['tps']:,.0f} bookings/s",
        ratio=round(booked.throughput / database_limit["tps"], 3),
        target="-",
        passed=None,
        expected={"201": booked.requests},
    )
    against_trivial = throughput_against(
        booked, trivial_post, target_ratio=TRIVIAL_POST_RATIO, expected_status="201"
    )
    return [against_trivial, against_pgbench], booked, database_limit


def bench_bookings() -> dict[int, int]:
    """The bookings the run made that are still booked: appointment id by patient id."""
    from appointments.models import Appointment, Status

    return dict(
        Appointment.objects.filter(
            created_by__email__endswith="@" + BENCH_EMAIL_DOMAIN, status=Status.BOOKED
        ).values_list("patient_id", "pk")
    )


def moves(bookings: list[Booking], targets: list[Booking], made: dict[int, int]) -> list[tuple]:
    """(path, body, token) of each booking made, moved to its target's free slot."""
    return [
        (
            f"{BOOK}{made[booking.patient_id]}/reschedule/",
            {"start": target.body["start"], "practitioner": target.body["practitioner"]},
            booking.token,
        )
        for booking, target in zip(bookings, targets, strict=False)
        if booking.patient_id in made
    ]


def reschedule_and_cancel(load: Load, plan: Plan, booked: Phase) -> list[Workload]:
    """Each booking just made moved to another free slot, then cancelled."""
    from django.db import connection

    made = bench_bookings()
    connection.close()
    moved = load.measure(
        "reschedule",
        [post(*move) for move in moves(plan.bookings[WARMUP:], plan.targets, made)],
    )
    cancelled = load.measure(
        "cancel",
        [
            post(f"{BOOK}{pk}/cancel/", {"reason": "bench"}, plan.tokens_of[patient_id])
            for patient_id, pk in made.items()
        ],
    )
    return [
        throughput_against(moved, booked, target_ratio=RESCHEDULE_RATIO, expected_status="200"),
        throughput_against(cancelled, booked, target_ratio=None, expected_status="200"),
    ]


def contention(
    load: Load, plan: Plan, booked: Phase, contenders_per_slot: int
) -> tuple[Workload, dict]:
    """Every contested slot asked for by `contenders_per_slot` patients at once: exactly
    one booking each, 409 for the others, and no double booking in the database."""
    from django.db import connection

    others = contenders_per_slot - 1
    requests = []
    for number, slot in enumerate(plan.contested):
        askers = [slot.patient_id, *plan.contenders[number * others : (number + 1) * others]]
        requests += [post(BOOK, slot.body, plan.tokens_of[a]) for a in askers]
    connection.close()
    # Every request is sent, whatever the time: a slot's verdict needs all its askers.
    contested = load.measure("contention", requests, users=contenders_per_slot, seconds=1800)
    doubles = double_bookings()
    connection.close()
    workload = throughput_against(contested, booked, target_ratio=None, expected_status="201")
    workload.expected = {"201": len(plan.contested), "409": len(requests) - len(plan.contested)}
    workload.target = "0 double bookings, 1 booking per slot"
    workload.passed = not any(doubles.values())
    details = {
        "slots": len(plan.contested),
        "requests_per_slot": contenders_per_slot,
        "double_bookings": doubles,
    }
    return workload, details


def double_bookings() -> dict[str, int]:
    """Pairs of occupying appointments that overlap on a practitioner, a patient or a room
    place, from today on (the exclusion constraints should make every count 0)."""
    from django.db import connection

    overlapping = {
        "practitioner": "a.practitioner_id = b.practitioner_id "
        "AND tstzrange(a.start, a.blocked_until) && tstzrange(b.start, b.blocked_until)",
        "patient": "a.patient_id = b.patient_id "
        'AND tstzrange(a.start, a."end") && tstzrange(b.start, b."end")',
        "room place": "a.room_id = b.room_id AND a.room_place = b.room_place "
        "AND tstzrange(a.start, a.blocked_until) && tstzrange(b.start, b.blocked_until)",
    }
    counts = {}
    with connection.cursor() as cursor:
        for what, condition in overlapping.items():
            cursor.execute(
                f"""SELECT count(*) FROM appointments_appointment a
                    JOIN appointments_appointment b ON a.id < b.id AND {condition}
                    WHERE a.start > now() - interval '1 day' AND b.start > now() - interval '1 day'
                      AND a.status IN ('booked', 'checked_in', 'completed', 'no_show')
                      AND b.status IN ('booked', 'checked_in', 'completed', 'no_show')"""
            )
            counts[what] = cursor.fetchone()[0]
    return counts
