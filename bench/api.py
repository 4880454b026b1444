"""HTTP benchmark: the API under gunicorn, loaded by locust from a process of its own, each
workload beside a baseline measured in the same run.

    python tools/devenv.py exec -- python bench/api.py [--db-name clinic_bench] [--seconds 20]

It serves the API the way production does (gunicorn sync workers, DEBUG off) from the
large clinic's database on DATABASE_URL's server (`clinic_bench`, or --db-name; seeded by
bench/large_clinic.py when missing, then reused). Load comes from locust (bench/load.py,
bench/locustfile.py): --users concurrent users in a closed loop, on 127.0.0.1. Phases
(the booking ones in bench/api_booking.py):

- availability: GET /api/v1/availability/ for one service, the whole clinic, 14 days,
  anonymously, beside an anonymous GET of the trivial endpoint;
- booking: POST /api/v1/appointments/ with 8 users, each request a distinct assessed patient
  booking a distinct free slot, beside (a) pgbench running the same INSERTs (appointment +
  three due messages, bench/pgbench_booking.py) with 8 clients — the database's own limit —
  and (b) an authenticated POST of the trivial endpoint with the same body;
- reschedule, then cancel, of the bookings just made (each to a distinct free slot), beside
  the booking throughput;
- contention: --contested-slots free slots (200), each asked for by --contenders (50)
  distinct patients at once (50 users): exactly one 201 per slot, 409 for the rest, and 0
  double bookings in the database (a self-join over the diary), beside the uncontested
  booking throughput;
- lists: a patient's appointment history and a practitioner's treatment notes (first page),
  beside an authenticated GET of the trivial endpoint, with the queries each answer costs.

The trivial endpoint (bench/urls.py, served through bench/settings.py only) is a DRF view
returning {"ok": true}: the framework's floor with the same authentication. Prints a table,
writes bench/results/api.json, stops gunicorn whatever happens, and deletes the bookings it
made so the next run starts alike.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import api_booking, api_profile
from bench.api_phases import (
    UNTIL_THE_CLOCK,
    WARMUP,
    Load,
    Workload,
    queries_per_answer,
    throughput_against,
)
from bench.bookings import delete_bench_bookings, token_for
from bench.common import create_database, with_database
from bench.fixtures import SERVICE
from bench.large_clinic import ensure_large_clinic
from bench.load import get
from bench.report import RESULTS, Row, print_table, write
from bench.servers import Gunicorn, server_environment, setup_django_as_server

AVAILABILITY_P95_MS = 60.0
AVAILABILITY_RATIO = 0.3  # against the trivial anonymous GET
LIST_RATIO = 0.5  # list endpoints against the trivial endpoint
PGBENCH_SLOTS = 200_000
APPOINTMENTS = "/api/v1/appointments/"
NOTES = "/api/v1/treatment-notes/"


def availability(load: Load, path: str) -> Workload:
    """Free slots, anonymously, beside an anonymous GET of the trivial endpoint."""
    trivial = load.measure("trivial GET, anonymous", [get(api_booking.TRIVIAL)] * UNTIL_THE_CLOCK)
    shown = load.measure("availability (14 days, whole clinic)", [get(path)] * UNTIL_THE_CLOCK)
    return Workload(
        phase=shown,
        baseline_name=trivial.name,
        baseline_figure=f"{trivial.throughput:,.0f} req/s",
        ratio=round(shown.throughput / trivial.throughput, 3),
        target=f"p95 <= {AVAILABILITY_P95_MS:.0f} ms, >= {AVAILABILITY_RATIO}x",
        passed=shown.p95_ms <= AVAILABILITY_P95_MS
        and shown.throughput / trivial.throughput >= AVAILABILITY_RATIO,
        expected={"200": shown.requests},
    )


def lists(load: Load, list_tokens: list[str], practitioner_token: str) -> list[Workload]:
    """A patient's appointments and a practitioner's notes, signed in, beside a signed-in
    GET of the trivial endpoint."""

    def each(path: str, tokens: list[str]) -> list:
        return [get(path, tokens[i % len(tokens)]) for i in range(UNTIL_THE_CLOCK)]

    trivial = load.measure("trivial GET, signed in", each(api_booking.TRIVIAL, list_tokens))
    history = load.measure("a patient's appointment list", each(APPOINTMENTS, list_tokens))
    notes = load.measure("a practitioner's note list", each(NOTES, [practitioner_token]))
    return [
        throughput_against(phase, trivial, target_ratio=LIST_RATIO, expected_status="200")
        for phase in (history, notes)
    ]


def profile_paths(
    plan: api_booking.Plan,
    free_slots: str,
    list_tokens: list[str],
    practitioner_token: str,
    calls: int,
    only: str = "",
) -> None:
    """Every HTTP path of the benchmark in this process under cProfile (`--profile`), or
    those whose name contains `only` (`--profile-only`)."""
    calls = min(calls, (len(plan.bookings) - 2) // 2, (len(plan.targets) - 2) // 2)
    bookings = [(b.body, b.token) for b in plan.bookings]
    paths = [
        api_profile.Path(
            "trivial GET, signed in", api_profile.get(api_booking.TRIVIAL, list_tokens[0]), 200
        ),
        api_profile.Path("availability (14 days, whole clinic)", api_profile.get(free_slots), 200),
        api_profile.Path(
            "a patient's appointment list", api_profile.get(APPOINTMENTS, list_tokens[0]), 200
        ),
        api_profile.Path(
            "a practitioner's note list", api_profile.get(NOTES, practitioner_token), 200
        ),
        api_profile.Path(
            "trivial POST, signed in", api_profile.post_each(api_booking.TRIVIAL, bookings), 200
        ),
        api_profile.Path("book a free slot", api_profile.post_each(APPOINTMENTS, bookings), 201),
    ]
    figures = api_profile.profile([path for path in paths if only in path.name], calls)
    if only not in "reschedule":
        print("\n".join(f"{name}: {figure}" for name, figure in figures.items()))
        return
    made_moves = api_booking.moves(plan.bookings, plan.targets, api_booking.bench_bookings())
    figures |= api_profile.profile(
        [api_profile.Path("reschedule", api_profile.post_each_to(made_moves), 200)],
        min(calls, (len(made_moves) - 2) // 2),
    )
    print("\n".join(f"{name}: {figure}" for name, figure in figures.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=600, help="bookings, at most")
    parser.add_argument("--seconds", type=float, default=20.0, help="per phase, at most")
    parser.add_argument("--users", type=int, default=8, help="concurrent locust users")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--contested-slots", type=int, default=200)
    parser.add_argument("--contenders", type=int, default=50, help="patients per slot")
    parser.add_argument("--db-name", default="clinic_bench", help="the large clinic's database")
    parser.add_argument("--reseed", action="store_true", help="drop the database, seed again")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    parser.add_argument(
        "--profile",
        type=int,
        nargs="?",
        const=50,
        metavar="CALLS",
        help="profile each path in-process (CALLS times, 50 by default) instead of loading it",
    )
    parser.add_argument(
        "--profile-only",
        default="",
        metavar="TEXT",
        help="with --profile: only the paths whose name contains TEXT, e.g. 'note list'",
    )
    parser.add_argument("--output", type=Path, default=RESULTS / "api.json")
    args = parser.parse_args(argv)
    if args.requests < WARMUP or not 0 < args.seconds <= 120 or args.users < 1:
        parser.error(f"--requests must be at least {WARMUP}; --seconds in (0, 120]")
    for name in ("DATABASE_URL", "REDIS_URL"):
        if not os.environ.get(name):
            raise SystemExit(f"{name} is not set; run through `python tools/devenv.py exec --`.")

    # A plain `kill` must also stop gunicorn: turn SIGTERM into SystemExit, so `finally` runs.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

    server_url = os.environ["DATABASE_URL"]
    url = with_database(server_url, args.db_name)
    create_database(server_url, args.db_name, drop_first=args.reseed)
    env = server_environment(url)
    setup_django_as_server(env)
    clinic = ensure_large_clinic(server_url, args.db_name)
    print(f"The large clinic in {args.db_name} ({clinic['seconds']} s): {clinic}")

    from django.db import connection
    from django.utils import timezone

    from appointments.models import Appointment
    from bench import pgbench_booking
    from practice.models import Practitioner, Service

    stale = delete_bench_bookings()
    pgbench_booking.cleanup()
    if stale:
        print(f"Deleted {stale} bookings left by an earlier run.")

    began = time.perf_counter()
    service = Service.objects.get(name=SERVICE)
    today = timezone.localdate()
    first_day = today + timedelta(days=7 - today.weekday())  # next Monday
    plan = api_booking.plan_run(service, args.requests, args.contested_slots, args.contenders)
    list_tokens = [token_for(user) for user in plan.list_users]
    practitioner = (
        Practitioner.objects.filter(is_active=True, user__isnull=False)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    practitioner_token = token_for(practitioner.user)
    appointments = Appointment.objects.count()
    seats = pgbench_booking.prepare_slots(SERVICE, PGBENCH_SLOTS)
    queries = {
        "a patient's appointment list": queries_per_answer(APPOINTMENTS, list_tokens[0]),
        "a practitioner's note list": queries_per_answer(NOTES, practitioner_token),
    }
    booking_statements = len(
        api_profile.statements_of(
            api_profile.Path(
                "one online booking",
                api_profile.post_each(
                    APPOINTMENTS, [(plan.bookings[0].body, plan.bookings[0].token)]
                ),
                201,
            )
        )
    )
    delete_bench_bookings()  # its slot is booked again under load
    connection.close()  # the server has the database to itself while it is measured
    print(
        f"Prepared {len(plan.bookings)} bookings, {len(plan.contenders)} contenders and "
        f"{PGBENCH_SLOTS:,} pgbench slots for {seats} practitioners in "
        f"{time.perf_counter() - began:.1f} s; {appointments:,} appointments in the database; "
        f"queries per answer: {queries}."
    )

    free_slots = "/api/v1/availability/?" + urlencode(
        {
            "service": service.pk,
            "from": first_day.isoformat(),
            "to": (first_day + timedelta(days=13)).isoformat(),
        }
    )
    if args.profile:
        try:
            profile_paths(
                plan,
                free_slots,
                list_tokens,
                practitioner_token,
                args.profile,
                args.profile_only,
            )
        finally:
            delete_bench_bookings()
        return 0

    log_path = Path(tempfile.gettempdir()) / f"bench-api-gunicorn-{os.getpid()}.log"
    server = Gunicorn(env, args.workers, log_path)
    workloads: list[Workload] = []
    details: dict = {"queries_per_answer": queries, "booking_statements": booking_statements}
    try:
        server.wait_until_ready()
        load = Load(server.base_url, args.users, args.seconds)
        print(
            f"\ngunicorn: {args.workers} sync workers on {server.base_url}; locust "
            f"{args.users} users; up to {args.seconds:.0f} s per phase\n"
        )
        load.measure("warm-up", [get(api_booking.TRIVIAL)] * WARMUP + [get(free_slots)] * WARMUP)
        workloads.append(availability(load, free_slots))
        booked_workloads, booked, details["pgbench"] = api_booking.booking(load, url, plan)
        workloads += booked_workloads
        details["booking_against_trivial_post"] = booked_workloads[0].ratio
        workloads += api_booking.reschedule_and_cancel(load, plan, booked)
        contested, details["contention"] = api_booking.contention(
            load, plan, booked, args.contenders
        )
        workloads.append(contested)
        workloads += lists(load, list_tokens, practitioner_token)
    finally:
        server.stop()
        made_now = delete_bench_bookings()
        pgbench_booking.cleanup()
        print(f"\ngunicorn stopped; deleted the {made_now} bookings this run made.\n")

    rows = [w.row() for w in workloads]
    rows.insert(
        2,
        Row(
            workload="SQL statements of one online booking, its messages included",
            figure=str(booking_statements),
            baseline="-",
            ratio=None,
            target=f"<= {api_booking.BOOKING_STATEMENTS}",
            passed=booking_statements <= api_booking.BOOKING_STATEMENTS,
        ),
    )
    print_table(rows)
    for workload in workloads:
        if unexpected := workload.unexpected():
            print(f"{workload.phase.name}: unexpected answers {unexpected}")
    write(
        args.output,
        "HTTP API under gunicorn, loaded by locust, beside same-run baselines",
        rows,
        database=args.db_name,
        appointments=appointments,
        service=SERVICE,
        availability_window={"first_day": first_day.isoformat(), "days": 14},
        gunicorn_workers=args.workers,
        users=args.users,
        max_seconds_per_phase=args.seconds,
        phases=[asdict(w.phase) for w in workloads],
        **details,
    )
    return 1 if args.check and not all(r.passed is not False for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
