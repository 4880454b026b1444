"""Benchmark `free_slots` against the cost of fetching the rows it needs with one query.

    python tools/devenv.py exec -- python bench/availability.py [--runs 50] [--reseed]

It never touches the development database: it uses the large clinic's database on the same
server (`clinic_bench`, or --db-name), seeded by bench/large_clinic.py when missing and
reused afterwards; --reseed starts over.

Then, for the fortnight starting next Monday, it times `free_slots` for one practitioner
and for the whole clinic, each call followed by the baseline: one raw SQL query fetching
the appointments that overlap the fortnight for the same practitioners and rooms (the
rows `free_slots` reads the most of). It prints a table and writes
bench/results/availability.json.

DEBUG is forced off: with it on, Django keeps every query in memory and timings drift.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import postgresql_version
from bench.fixtures import SERVICE
from bench.large_clinic import ensure_large_clinic
from bench.load import time_calls, timed
from bench.report import RESULTS, Row, print_columns, write
from bench.stats import spread

if TYPE_CHECKING:
    from practice.models import Practitioner, Service

TARGET_RATIO = 2.0  # free_slots p95 at most this many times the raw fetch's p95
TARGET_ONE_MS = 25.0  # p95, one practitioner
TARGET_CLINIC_MS = 100.0  # p95, the whole clinic
TARGET_COURSE_MS = 100.0  # p95, previewing a year of weekly visits (issue 21)
COURSE_VISITS = 52


# Measuring --------------------------------------------------------------------------------


@dataclass
class Result:
    workload: str
    service: str
    practitioners: int
    runs: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    baseline_p50_ms: float
    baseline_p95_ms: float
    baseline_rows: int
    ratio_p95: float
    target_p95_ms: float
    target_ratio: float
    queries_per_call: int
    slots: int
    meets_p95: bool
    meets_ratio: bool


def measure(
    workload: str,
    service: Service,
    first_day: date,
    practitioner: Practitioner | None,
    *,
    target_ms: float,
    runs: int,
    warmup: int,
) -> Result:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from appointments.availability import MAX_APPOINTMENT_SPAN, free_slots, practitioners_for
    from appointments.models import OCCUPYING_STATUSES
    from practice.models import Practitioner, Room, WorkingHours

    last_day = first_day + timedelta(days=13)

    def call() -> list:
        return free_slots(service, first_day, last_day, practitioner=practitioner)

    # The baseline reads what free_slots's main query reads: the appointments overlapping
    # the fortnight for these practitioners, or in a room of the kind the service needs at
    # a location where they work.
    eligible = Practitioner.objects.filter(practitioners_for(service))
    if practitioner is not None:
        eligible = eligible.filter(pk=practitioner.pk)
    practitioner_ids = list(eligible.values_list("pk", flat=True))
    room_ids = list(
        Room.objects.filter(
            kind=service.room_kind,
            is_active=True,
            location__in=WorkingHours.objects.filter(practitioner_id__in=practitioner_ids).values(
                "location_id"
            ),
        ).values_list("pk", flat=True)
    )
    zone = timezone.get_default_timezone()  # where all the benchmark's locations are
    span_start = datetime.combine(first_day, datetime.min.time(), tzinfo=zone)
    span_end = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    sql = (
        "SELECT practitioner_id, room_id, room_place, start, blocked_until "
        "FROM appointments_appointment "
        "WHERE (practitioner_id = ANY(%s) OR room_id = ANY(%s)) AND status = ANY(%s) "
        "AND start > %s AND start < %s AND blocked_until > %s"
    )
    params = [
        practitioner_ids,
        room_ids,
        [str(status) for status in OCCUPYING_STATUSES],
        span_start - MAX_APPOINTMENT_SPAN,
        span_end + service.buffer_after,
        span_start,
    ]

    def baseline() -> list:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    # Each call followed by the baseline: a burst of load falls on both alike.
    timings = time_calls(
        {"free_slots": timed(call), "raw fetch": timed(baseline)}, runs, warmup=warmup
    )
    with CaptureQueriesContext(connection) as queries:
        slots = call()
    rows = baseline()
    measured, raw = spread(timings["free_slots"].ms), spread(timings["raw fetch"].ms)
    p95, baseline_p95 = measured["p95_ms"], raw["p95_ms"]
    return Result(
        workload=workload,
        service=service.name,
        practitioners=len(practitioner_ids),
        runs=runs,
        **measured,
        baseline_p50_ms=raw["p50_ms"],
        baseline_p95_ms=baseline_p95,
        baseline_rows=len(rows),
        ratio_p95=round(p95 / baseline_p95, 2),
        target_p95_ms=target_ms,
        target_ratio=TARGET_RATIO,
        queries_per_call=len(queries.captured_queries),
        slots=len(slots),
        meets_p95=p95 <= target_ms,
        meets_ratio=p95 <= TARGET_RATIO * baseline_p95,
    )


@dataclass
class CourseResult:
    practitioner: str
    visits: int
    free: int
    runs: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    baseline_p50_ms: float
    baseline_p95_ms: float
    ratio_p95: float
    target_p95_ms: float
    queries_per_call: int
    meets_p95: bool


def measure_course(
    service: Service, first_day: date, practitioner: Practitioner, *, runs: int, warmup: int
) -> CourseResult:
    """`preview_course` for a year of weekly visits with one practitioner at their location,
    beside one `free_slots` call for a fortnight with them."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from appointments.availability import free_slots
    from appointments.courses import CourseRule, preview_course
    from practice.models import WorkingHours

    # On a weekday they work, an hour after they start: a course reception would book.
    line = WorkingHours.objects.filter(practitioner=practitioner).order_by("weekday", "pk")[0]
    location = line.location
    first = first_day + timedelta(days=(line.weekday - first_day.weekday()) % 7)
    rule = CourseRule(first_date=first, at=time(line.start_time.hour + 1), visits=COURSE_VISITS)

    def call():
        return preview_course(
            service=service, location=location, rule=rule, practitioner=practitioner
        )

    def single() -> list:
        return free_slots(
            service, first_day, first_day + timedelta(days=13), practitioner=practitioner
        )

    timings = time_calls(
        {"course preview": timed(call), "free_slots": timed(single)}, runs, warmup=warmup
    )
    with CaptureQueriesContext(connection) as queries:
        preview = call()
    measured, baseline = spread(timings["course preview"].ms), spread(timings["free_slots"].ms)
    return CourseResult(
        practitioner=str(practitioner),
        visits=len(preview.visits),
        free=sum(visit.free for visit in preview.visits),
        runs=runs,
        **measured,
        baseline_p50_ms=baseline["p50_ms"],
        baseline_p95_ms=baseline["p95_ms"],
        ratio_p95=round(measured["p95_ms"] / baseline["p95_ms"], 2),
        target_p95_ms=TARGET_COURSE_MS,
        queries_per_call=len(queries.captured_queries),
        meets_p95=measured["p95_ms"] <= TARGET_COURSE_MS,
    )


def print_results(results: list[Result]) -> None:
    lines = []
    for r in results:
        missed = [name for name, ok in (("p95", r.meets_p95), ("ratio", r.meets_ratio)) if not ok]
        lines.append(
            (
                r.workload,
                f"{r.p50_ms:.1f}",
                f"{r.p95_ms:.1f}",
                f"{r.baseline_p95_ms:.1f}",
                f"{r.ratio_p95:.1f}x",
                f"p95 <= {r.target_p95_ms:.0f} ms, <= {r.target_ratio:.0f}x raw",
                f"FAIL ({', '.join(missed)})" if missed else "pass",
            )
        )
    print_columns(
        ("workload", "p50 ms", "p95 ms", "raw p95 ms", "ratio", "target", "result"), lines
    )
    print()
    for r in results:
        print(
            f"{r.workload}: {r.queries_per_call} queries per free_slots call, {r.slots} slots "
            f"over {r.practitioners} practitioner(s); the raw fetch returns {r.baseline_rows} rows"
        )


def print_profile(service: Service, first_day: date) -> None:
    import cProfile
    import pstats

    from appointments.availability import free_slots

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(20):
        free_slots(service, first_day, first_day + timedelta(days=13))
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(20)


# Entry point ------------------------------------------------------------------------------


def rows_of(results: list[Result], course: CourseResult) -> list[Row]:
    """The results in the shape bench/run.py gathers."""
    return [
        *_free_slots_rows(results),
        Row(
            workload=f"preview a course of {course.visits} weekly visits, one practitioner",
            figure=f"p50 {course.p50_ms:.1f} / p95 {course.p95_ms:.1f} ms, "
            f"{course.queries_per_call} queries",
            baseline=f"one free_slots call, 14 days, p95 {course.baseline_p95_ms:.1f} ms",
            ratio=course.ratio_p95,
            target=f"p95 < {course.target_p95_ms:.0f} ms",
            passed=course.meets_p95,
        ),
    ]


def _free_slots_rows(results: list[Result]) -> list[Row]:
    return [
        Row(
            workload=f"free_slots, 14 days, {r.workload}",
            figure=f"p50 {r.p50_ms:.1f} / p95 {r.p95_ms:.1f} ms",
            baseline=f"raw SQL fetch p95 {r.baseline_p95_ms:.1f} ms",
            ratio=r.ratio_p95,
            target=f"p95 <= {r.target_p95_ms:.0f} ms, <= {r.target_ratio:.0f}x",
            passed=r.meets_p95 and r.meets_ratio,
        )
        for r in results
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=50, help="timed calls per workload")
    parser.add_argument("--warmup", type=int, default=5, help="untimed calls before them")
    parser.add_argument("--db-name", default="clinic_bench", help="the large clinic's database")
    parser.add_argument("--reseed", action="store_true", help="drop the database, seed again")
    parser.add_argument("--profile", action="store_true", help="cProfile clinic-wide calls")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    parser.add_argument("--output", type=Path, default=RESULTS / "availability.json")
    args = parser.parse_args(argv)
    if args.runs < 2:
        parser.error("--runs must be at least 2")
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit("DATABASE_URL is not set; run through `python tools/devenv.py exec --`.")

    clinic = ensure_large_clinic(os.environ["DATABASE_URL"], args.db_name, reseed=args.reseed)
    print(f"The large clinic in {args.db_name} ({clinic['seconds']} s).")

    from django.utils import timezone

    from appointments.models import Appointment
    from practice.models import Practitioner, Service

    today = timezone.localdate()

    service = Service.objects.get(name=SERVICE)
    one = Practitioner.objects.filter(disciplines=["myotherapy"]).order_by("pk").first()
    first_day = today + timedelta(days=7 - today.weekday())  # next Monday
    appointments = Appointment.objects.count()
    print(
        f"free_slots({service.name!r}, {first_day}, {first_day + timedelta(days=13)}): "
        f"{args.runs} timed runs after {args.warmup} warm-up, {appointments} appointments\n"
    )
    results = [
        measure(
            f"one practitioner ({one})",
            service,
            first_day,
            one,
            target_ms=TARGET_ONE_MS,
            runs=args.runs,
            warmup=args.warmup,
        ),
        measure(
            "whole clinic",
            service,
            first_day,
            None,
            target_ms=TARGET_CLINIC_MS,
            runs=args.runs,
            warmup=args.warmup,
        ),
    ]
    print_results(results)
    course = measure_course(service, first_day, one, runs=args.runs, warmup=args.warmup)
    print(
        f"\npreview_course, {course.visits} weekly visits with {course.practitioner} "
        f"({course.free} free): p50 {course.p50_ms:.1f} / p95 {course.p95_ms:.1f} ms, "
        f"{course.queries_per_call} queries; one free_slots call p95 "
        f"{course.baseline_p95_ms:.1f} ms ({course.ratio_p95:.1f}x)"
    )
    if args.profile:
        print_profile(service, first_day)

    write(
        args.output,
        "appointments.availability.free_slots",
        rows_of(results, course),
        database=args.db_name,
        appointments=appointments,
        window={"first_day": first_day.isoformat(), "days": 14},
        postgresql=postgresql_version(),
        results=[asdict(result) for result in results],
        course_preview=asdict(course),
    )
    missed = not all(r.meets_p95 and r.meets_ratio for r in results) or not course.meets_p95
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
