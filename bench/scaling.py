"""Scaling: free slots and booking at 10k, 100k and 1M appointments. The cost must depend on
the window asked for, not on the history stored.

    python tools/devenv.py exec -- python bench/scaling.py [--sizes 10k,100k,1m] [--check]

Each size is a database of its own on DATABASE_URL's server (clinic_bench_10k, _100k, _1m):
the large clinic's set-up (3 locations, 20 practitioners, 20,000 patients) and the same
eight weeks of diary ahead, differing only in the length of the history behind it: six
weeks, two years or twenty-two years. They are seeded once and reused while all were
seeded on the same day, no more than a week ago (the diary ahead is laid out from the day
of the seed, so sizes seeded on different days would not share it); --reseed starts over.

Each size is served by a worker process of its own (Django is set up once per process),
which seeds its database if needed, warms up, then times calls in batches as asked. The
batches go round the sizes in turn, so a burst of load on this shared machine falls on
all sizes alike rather than on whichever ran at that moment. The workloads:

- `free_slots` for the fortnight from next Monday, for one practitioner and for the whole
  clinic (as bench/availability.py times it): --runs calls each;
- `book_appointment` of --bookings distinct free slots of that fortnight, online, each by
  a distinct patient who has been assessed and is free then, each in a transaction rolled
  back once the clock has stopped: every booking meets the same diary, and the commit's
  WAL flush, the same at any size, is left out.

Target: at every size, each p95 is at most TARGET_RATIO times the smallest size's. An index
descent costs a level more per tenfold or hundredfold history and a bigger database is
less often in cache: a few per cent. A cost that read the history would grow 10 to 100
times. 2x lies well between, with room for the noise of a shared machine.

Prints a table and writes bench/results/scaling.json, whose "rows" the `make bench` table
reads; --check exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from datetime import UTC, date, datetime, timedelta
from itertools import cycle
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script, bench/ is on the path but not the project
    sys.path.insert(0, str(ROOT))

from bench.common import create_database, setup_django, with_database  # noqa: E402
from bench.fixtures import SERVICE  # noqa: E402
from bench.load import elapsed_ms, time_calls, timed  # noqa: E402
from bench.report import RESULTS, Row, print_table, write  # noqa: E402
from bench.stats import spread  # noqa: E402

DB_PREFIX = "clinic_bench_"
# Days of history for about 10k, 100k and 1M appointments in all: about 121.5 a day, and
# 4,870 in the eight weeks ahead.
SIZES = {"10k": 42, "100k": 783, "1m": 8190}
MAX_AGE_DAYS = 7
TARGET_RATIO = 2.0
SEED = 1729
WORKLOADS = (
    ("one practitioner", "free_slots, one practitioner, 14 days"),
    ("whole clinic", "free_slots, whole clinic, 14 days"),
    ("booking", "book_appointment, online"),
)


# The parent: which databases to seed, one worker per size, the table ---------------------


def seeded_on(server_url: str, names: list[str]) -> dict[str, date | None]:
    """The day each database was seeded, from the mark `busy_clinic.seed` leaves in its
    comment (None: missing, or not seeded by it)."""
    import psycopg

    days: dict[str, date | None] = dict.fromkeys(names)
    with psycopg.connect(with_database(server_url, "postgres"), connect_timeout=10) as conn:
        for name, comment in conn.execute(
            "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database "
            "WHERE datname = ANY(%s)",
            [names],
        ):
            with contextlib.suppress(TypeError, ValueError, KeyError):
                days[name] = date.fromisoformat(json.loads(comment)["seeded_on"])
    return days


def to_reseed(days: dict[str, date | None], today: date) -> set[str]:
    """The databases to seed again so that all were seeded on the same, recent day."""
    seed_days = set(days.values())
    if len(seed_days) == 1 and None not in seed_days:
        (day,) = seed_days
        if (today - day).days <= MAX_AGE_DAYS:
            return set()
    return {name for name, day in days.items() if day != today}


class Worker:
    """The parent's end of one size's worker: a JSON line out, a JSON line back."""

    def __init__(self, size: str, database: str, args: argparse.Namespace, *, reseed: bool):
        self.size = size
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--worker",
            size,
            "--db-name",
            database,
            "--bookings",
            str(args.bookings),
            "--warmup",
            str(args.warmup),
        ]
        if reseed:
            command.append("--reseed")
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def receive(self) -> dict[str, Any]:
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"The {self.size} worker stopped; its output is above.")
        return json.loads(line)

    def ask(self, command: dict[str, Any]) -> dict[str, Any]:
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return self.receive()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()  # the worker ends when its input does
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def measure(workers: list[Worker], counts: dict[str, int], batch: int) -> dict[str, dict]:
    """Each workload's timings at each size, asked for `batch` calls at a time, the sizes
    taking turns and each round starting with the next size."""
    samples: dict[str, dict[str, list[float]]] = {w.size: {k: [] for k in counts} for w in workers}
    refused: dict[str, int] = dict.fromkeys(samples, 0)
    for round_ in range(-(-max(counts.values()) // batch)):
        turn = round_ % len(workers)
        for key, total in counts.items():
            calls = min(batch, total - round_ * batch)
            if calls <= 0:
                continue
            for worker in workers[turn:] + workers[:turn]:
                answer = worker.ask({"workload": key, "calls": calls})
                samples[worker.size][key] += answer["ms"]
                refused[worker.size] += answer["refused"]
    if short := [f"{s} {k}" for s, by in samples.items() for k, ms in by.items() if len(ms) < 2]:
        raise SystemExit(f"Too few calls succeeded to time: {', '.join(short)}.")
    return {
        size: {
            key: {
                "calls": len(ms),
                **spread(ms),
                **({"refused": refused[size]} if key == "booking" else {}),
            }
            for key, ms in by_workload.items()
        }
        for size, by_workload in samples.items()
    }


def rows(results: list[dict]) -> list[Row]:
    """One row per size and workload, the p95 beside the smallest size's."""
    baseline = results[0]
    table = []
    for result in results:
        for key, name in WORKLOADS:
            figure = result["timings"][key]
            base = baseline["timings"][key]
            is_baseline = result is baseline
            ratio = None if is_baseline else round(figure["p95_ms"] / base["p95_ms"], 2)
            passed = figure.get("refused", 0) == 0 and (is_baseline or ratio <= TARGET_RATIO)
            table.append(
                Row(
                    workload=f"{name}, {result['appointments']:,} appointments",
                    figure=f"p95 {figure['p95_ms']:.1f} ms (p50 {figure['p50_ms']:.1f})",
                    baseline="this is the baseline"
                    if is_baseline
                    else f"{baseline['size']}: p95 {base['p95_ms']:.1f} ms",
                    ratio=ratio,
                    target=f"p95 <= {TARGET_RATIO:g}x the {baseline['size']} p95",
                    passed=passed,
                )
            )
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default=",".join(SIZES), help="e.g. 10k,100k (of 10k,100k,1m)")
    parser.add_argument("--runs", type=int, default=200, help="timed calls of free_slots")
    parser.add_argument("--bookings", type=int, default=200, help="timed bookings")
    parser.add_argument("--warmup", type=int, default=10, help="untimed calls before them")
    parser.add_argument("--batch", type=int, default=10, help="calls per turn of a size")
    parser.add_argument("--reseed", action="store_true", help="drop the databases, seed again")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    parser.add_argument("--db-prefix", default=DB_PREFIX, help="databases are PREFIX<size>")
    parser.add_argument("--output", type=Path, default=RESULTS / "scaling.json")
    # A worker serves one size in its own process.
    parser.add_argument("--worker", choices=SIZES, help=argparse.SUPPRESS)
    parser.add_argument("--db-name", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if min(args.runs, args.bookings) < 2 or args.batch < 1:
        parser.error("--runs and --bookings must be at least 2, --batch at least 1")
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit("DATABASE_URL is not set; run through `python tools/devenv.py exec --`.")
    if args.worker:
        serve(args.worker, args.db_name, args)
        return 0

    sizes = [size.strip().lower() for size in args.sizes.split(",") if size.strip()]
    unknown = [size for size in sizes if size not in SIZES]
    if unknown or not sizes:
        parser.error(f"--sizes takes some of {', '.join(SIZES)}; not {', '.join(unknown)}")
    sizes = [size for size in SIZES if size in sizes]  # smallest first: the baseline
    databases = {size: args.db_prefix + size for size in sizes}
    server_url = os.environ["DATABASE_URL"]
    today = datetime.now(ZoneInfo(os.environ.get("TIME_ZONE", "Australia/Melbourne"))).date()
    reseed = (
        set(databases.values())
        if args.reseed
        else to_reseed(seeded_on(server_url, list(databases.values())), today)
    )

    workers: list[Worker] = []
    try:
        details = {}
        for size in sizes:  # one at a time: seeding takes both cores
            workers.append(Worker(size, databases[size], args, reseed=databases[size] in reseed))
            details[size] = workers[-1].receive()
        print(f"\nTiming {', '.join(sizes)} in turns of {args.batch} calls…", flush=True)
        timings = measure(
            workers,
            {"one practitioner": args.runs, "whole clinic": args.runs, "booking": args.bookings},
            args.batch,
        )
    finally:
        for worker in workers:
            worker.stop()
    results = [{**details[size], "timings": timings[size]} for size in sizes]
    for result in results:
        for key, queries in result.pop("queries_per_call").items():
            result["timings"][key]["queries_per_call"] = queries

    table = rows(results)
    print()
    print_table(table)
    if len({result["seeded_on"] for result in results}) > 1:
        print("\nThe sizes were seeded on different days: their diaries ahead differ.")
    write(
        args.output,
        "scaling of free_slots and book_appointment with the history stored",
        table,
        target_ratio=TARGET_RATIO,
        sizes=results,
    )
    return 1 if args.check and not all(row.passed for row in table) else 0


# A worker: one size, in its own process ---------------------------------------------------


def serve(size: str, db_name: str, args: argparse.Namespace) -> None:
    """Seed if needed and warm up, say so with the database's details, then time the calls
    asked for on stdin, one JSON line each, until stdin ends."""
    answers = sys.stdout
    sys.stdout = sys.stderr  # whatever else prints must not get into the answers
    details, workloads = prepare(size, db_name, args)

    def answer(message: dict[str, Any]) -> None:
        answers.write(json.dumps(message) + "\n")
        answers.flush()

    answer(details)
    for line in sys.stdin:
        command = json.loads(line)
        call = workloads[command["workload"]]
        timings = time_calls({command["workload"]: call}, command["calls"])[command["workload"]]
        answer({"ms": timings.ms, "refused": timings.refused})


def prepare(
    size: str, db_name: str, args: argparse.Namespace
) -> tuple[dict[str, Any], dict[str, Callable[[], float | None]]]:
    """The database seeded and its details; each workload as a call returning the
    milliseconds it took (None: a booking was refused), warmed up."""
    server_url = os.environ["DATABASE_URL"]
    url = with_database(server_url, db_name)
    if create_database(server_url, db_name, drop_first=args.reseed):
        print(f"Created database {db_name}.")
    setup_django(url)

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from appointments.availability import free_slots
    from appointments.models import Appointment
    from bench import busy_clinic
    from practice.models import Location, Practitioner, Service

    today = timezone.localdate()
    scale = replace(busy_clinic.LARGE, past_days=SIZES[size])
    seeding = busy_clinic.seeding()
    seed_seconds = None
    if seeding is None or seeding.scale != scale:
        if Location.objects.exists():
            print(f"{db_name} holds another clinic: seeding it again.")
            connection.close()
            create_database(server_url, db_name, drop_first=True)
            setup_django(url)
        print(f"Seeding {db_name} with {scale.past_days} days of history…", flush=True)
        began = time.perf_counter()
        counts = busy_clinic.seed(today, scale)
        with connection.cursor() as cursor:
            # Settle the new rows (hint bits, visibility map, statistics) now rather than
            # under an autovacuum during the timings.
            cursor.execute("VACUUM (ANALYZE)")
        seed_seconds = round(time.perf_counter() - began, 1)
        print(f"Seeded {db_name} in {seed_seconds} s: {counts['appointments']:,} appointments.")
        seeding = busy_clinic.seeding()

    service = Service.objects.get(name=SERVICE)
    one = Practitioner.objects.filter(disciplines=["myotherapy"]).order_by("pk").first()
    first_day = today + timedelta(days=7 - today.weekday())  # next Monday
    last_day = first_day + timedelta(days=13)

    workloads = {
        "one practitioner": timed(lambda: free_slots(service, first_day, last_day, one)),
        "whole clinic": timed(lambda: free_slots(service, first_day, last_day)),
        "booking": booking(service, first_day, last_day, args.bookings + args.warmup),
    }
    queries = {}
    for key, call in workloads.items():
        for _ in range(args.warmup):
            call()
        with CaptureQueriesContext(connection) as captured:
            call()
        queries[key] = len(captured.captured_queries)

    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT version(), pg_database_size(current_database())")
        server_version, database_bytes = cursor.fetchone()
    details = {
        "size": size,
        "database": db_name,
        "seeded_on": str(seeding.seeded_on),
        "seed_seconds": seed_seconds,
        "scale": asdict(scale),
        "appointments": Appointment.objects.count(),
        "future_appointments": Appointment.objects.filter(start__gte=now).count(),
        "database_bytes": database_bytes,
        "window": {"first_day": str(first_day), "days": 14},
        "service": service.name,
        "slots": {
            "one practitioner": len(free_slots(service, first_day, last_day, one)),
            "whole clinic": len(free_slots(service, first_day, last_day)),
        },
        "queries_per_call": queries,
        "postgresql": server_version,
    }
    print(f"{db_name}: {details['appointments']:,} appointments, ready.", flush=True)
    return details, workloads


def booking(service, first_day: date, last_day: date, count: int) -> Callable[[], float | None]:
    """A call that books the next of `count` distinct free slots of the days (online) for
    the next of as many distinct assessed patients who are free then, in a transaction
    rolled back after the clock stops, and returns the milliseconds it took (None if the
    booking was refused). After `count` calls it starts again from the first."""
    from django.db import transaction
    from django.db.models import Exists, OuterRef

    from appointments.availability import free_slots
    from appointments.models import OCCUPYING_STATUSES, Appointment, Source, Status
    from appointments.services import book_appointment
    from kernel.errors import DomainError
    from patients.models import Patient
    from practice.models import Location, Practitioner

    slots = free_slots(service, first_day, last_day, online=True)
    random.Random(SEED).shuffle(slots)  # spread over the days and the practitioners
    if len(slots) < count:
        raise SystemExit(f"Only {len(slots)} free slots from {first_day} to {last_day}.")
    completed = Appointment.objects.filter(patient=OuterRef("pk"), status=Status.COMPLETED)
    patients = list(
        Patient.objects.filter(Exists(completed), is_active=True).order_by("pk")[: 3 * count]
    )
    taken: dict[int, list[tuple[datetime, datetime]]] = {p.pk: [] for p in patients}
    for patient_id, start, end in Appointment.objects.filter(
        patient__in=patients,
        status__in=OCCUPYING_STATUSES,
        start__lt=datetime.combine(last_day + timedelta(days=2), datetime.min.time(), UTC),
        end__gt=datetime.combine(first_day - timedelta(days=1), datetime.min.time(), UTC),
    ).values_list("patient_id", "start", "end"):
        taken[patient_id].append((start, end))
    bookings = []
    for slot in slots[:count]:
        patient = next(
            (p for p in patients if all(slot.end <= s or e <= slot.start for s, e in taken[p.pk])),
            None,
        )
        if patient is None:
            raise SystemExit(f"No assessed patient left who is free at {slot.start}.")
        patients.remove(patient)
        bookings.append((slot, patient))
    practitioners = Practitioner.objects.in_bulk()
    locations = Location.objects.in_bulk()
    turns = cycle(bookings)

    def call() -> float | None:
        slot, patient = next(turns)
        with transaction.atomic():
            began = time.perf_counter()
            try:
                book_appointment(
                    patient=patient,
                    service=service,
                    practitioner=practitioners[slot.practitioner_id],
                    start=slot.start,
                    location=locations[slot.location_id],
                    source=Source.ONLINE,
                )
            except DomainError as error:
                print(f"Booking refused: {error}")
                return None
            finally:
                elapsed = elapsed_ms(began)
                transaction.set_rollback(True)
        return elapsed

    return call


if __name__ == "__main__":
    sys.exit(main())
