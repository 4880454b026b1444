"""HTTP benchmark: the API under gunicorn, loaded by locust from a process of its own, each
workload beside a baseline measured in the same run.

    python tools/devenv.py exec -- python bench/api.py [--db-name clinic_bench] [--seconds 20]

It serves the API the way production does (gunicorn sync workers, DEBUG off) from the
large clinic's database on DATABASE_URL's server (`clinic_bench`, or --db-name; seeded by
bench/large_clinic.py when missing, then reused). Load comes from locust (bench/load.py,
bench/locustfile.py): --users concurrent users in a closed loop, on 127.0.0.1. Phases:

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
import http.client
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import create_database, setup_django, with_database
from bench.large_clinic import ensure_large_clinic
from bench.load import Phase, Request, get, post, run_locust
from bench.report import RESULTS, Row, print_table, write

ROOT = Path(__file__).resolve().parent.parent
SERVICE = "Myotherapy — SMM (45 min)"
HOST = "127.0.0.1"
BENCH_EMAIL_DOMAIN = "bench.example"
LIST_PATIENTS = 50
WARMUP = 20  # untimed requests before each phase
AVAILABILITY_P95_MS = 60.0
LIST_RATIO = 0.5  # list endpoints against the trivial endpoint
PGBENCH_RATIO = 0.35  # HTTP booking against pgbench's booking INSERTs
PGBENCH_SLOTS = 200_000


# The benchmark's own database -------------------------------------------------------------


def server_environment(database_url: str) -> dict[str, str]:
    """Production settings, on the benchmark database, with the bench-only URLconf."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="bench.settings",
        DEBUG="0",
        SECRET_KEY=os.environ.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(48),
        ALLOWED_HOSTS=HOST,
        SECURE_SSL_REDIRECT="false",
        LOG_LEVEL="ERROR",  # no log line per 4xx in the timed path
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    return env


SERVER_SETTINGS = ("DJANGO_SETTINGS_MODULE", "SECRET_KEY", "ALLOWED_HOSTS", "SECURE_SSL_REDIRECT")


def setup_django_as_server(env: dict[str, str]) -> None:
    """Django in this process as the server has it: the same SECRET_KEY, so the tokens
    minted here verify there."""
    setup_django(env["DATABASE_URL"], **{name: env[name] for name in SERVER_SETTINGS})


# Test data: logins, tokens and the bookings to make ---------------------------------------


@dataclass(frozen=True)
class Booking:
    patient_id: int
    token: str
    body: dict


def delete_bench_bookings() -> int:
    """Delete the appointments that the benchmark's logins booked, with their messages."""
    from appointments.models import Appointment
    from notifications.models import Notification, OutboxMessage

    booked = Appointment.objects.filter(created_by__email__endswith="@" + BENCH_EMAIL_DOMAIN)
    OutboxMessage.objects.filter(notification__appointment__in=booked).delete()
    Notification.objects.filter(appointment__in=booked).delete()
    deleted, _ = booked.delete()
    return deleted


def assessed_patients_with_logins(count: int) -> list:
    """`count` active patients who had a completed session and have nothing booked, each
    with a login of its own (created on first use as <patient id>@bench.example, no usable
    password), consenting to email only: each booking then writes what the pgbench script
    writes (the appointment, an email confirmation and two reminders)."""
    from django.db import transaction
    from django.db.models import Exists, OuterRef, Q
    from django.utils import timezone

    from accounts.models import User
    from appointments.models import OCCUPYING_STATUSES, Appointment, Status
    from patients.models import Patient

    completed = Appointment.objects.filter(patient=OuterRef("pk"), status=Status.COMPLETED)
    booked = Appointment.objects.filter(
        patient=OuterRef("pk"), status__in=OCCUPYING_STATUSES, end__gt=timezone.now()
    )
    patients = list(
        Patient.objects.filter(Exists(completed), ~Exists(booked), is_active=True)
        .filter(Q(user__isnull=True) | Q(user__email__endswith="@" + BENCH_EMAIL_DOMAIN))
        .order_by("pk")[:count]
    )
    if len(patients) < count:
        raise SystemExit(f"Only {len(patients)} assessed patients to sign in as; need {count}.")
    missing = [p for p in patients if p.user_id is None]
    with transaction.atomic():
        users = []
        for patient in missing:
            user = User(
                email=f"patient-{patient.pk}@{BENCH_EMAIL_DOMAIN}",
                first_name=patient.first_name,
                last_name=patient.last_name,
            )
            user.set_unusable_password()
            users.append(user)
        User.objects.bulk_create(users)
        for patient, user in zip(missing, users, strict=True):
            patient.user = user
        Patient.objects.bulk_update(missing, ["user"])
        Patient.objects.filter(pk__in=[p.pk for p in patients]).update(
            consent_email=True, consent_sms=False
        )
    return list(Patient.objects.filter(pk__in=[p.pk for p in patients]).select_related("user"))


def token_for(user) -> str:
    from rest_framework_simplejwt.tokens import AccessToken

    return str(AccessToken.for_user(user))


def plan_bookings(service, patients: list, count: int, seed: int = 1729) -> list[Booking]:
    """`count` online bookings that should all succeed: distinct free slots (from
    `free_slots`, as patients see them) that do not collide with one another on a
    practitioner, a room place or a patient, each for a distinct one of `patients`. The
    slots start after the cancellation window, so the patients may cancel them."""
    from django.utils import timezone

    from appointments.availability import MAX_APPOINTMENT_SPAN, free_slots
    from appointments.models import OCCUPYING_STATUSES, Appointment
    from practice.models import BookingRules, Location, Room

    today = timezone.localdate()
    rules = BookingRules.current()
    cancellable = timezone.now() + timedelta(hours=rules.cancellation_window_hours + 24)
    slots = [
        slot
        for slot in free_slots(
            service, today, today + timedelta(days=rules.online_horizon_days), online=True
        )
        if slot.start > cancellable
    ]
    random.Random(seed).shuffle(slots)  # spread the bookings over the diary
    if not slots:
        raise SystemExit("No free slots to book: reseed with --reseed.")
    span = (min(s.start for s in slots), max(s.end for s in slots) + service.buffer_after)
    zones = {location.pk: location.zone for location in Location.objects.all()}

    # Room places of the service's kind, with what already occupies them.
    places_by_location: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for room_id, location_id, capacity in Room.objects.filter(
        kind=service.room_kind, is_active=True
    ).values_list("pk", "location_id", "capacity"):
        places_by_location[location_id] += [(room_id, place) for place in range(1, capacity + 1)]
    busy: dict[object, list[tuple[datetime, datetime]]] = defaultdict(list)
    for room_id, place, start, blocked_until in Appointment.objects.filter(
        status__in=OCCUPYING_STATUSES,
        start__gt=span[0] - MAX_APPOINTMENT_SPAN,
        start__lt=span[1],
        blocked_until__gt=span[0],
    ).values_list("room_id", "room_place", "start", "blocked_until"):
        busy[room_id, place].append((start, blocked_until))

    for patient_id, start, end in Appointment.objects.filter(
        patient__in=patients, status__in=OCCUPYING_STATUSES, end__gt=span[0]
    ).values_list("patient_id", "start", "end"):
        busy["patient", patient_id].append((start, end))

    def free(key, start, end) -> bool:
        return all(end <= s or e <= start for s, e in busy[key])

    bookings: list[Booking] = []
    unused = list(patients)
    for slot in slots:
        if len(bookings) == count:
            break
        blocked_until = slot.end + service.buffer_after
        if not free(("practitioner", slot.practitioner_id), slot.start, blocked_until):
            continue
        place = next(
            (p for p in places_by_location[slot.location_id] if free(p, slot.start, blocked_until)),
            None,
        )
        patient = next((p for p in unused if free(("patient", p.pk), slot.start, slot.end)), None)
        if place is None or patient is None:
            continue
        busy["practitioner", slot.practitioner_id].append((slot.start, blocked_until))
        busy[place].append((slot.start, blocked_until))
        unused.remove(patient)
        start = slot.start.astimezone(zones[slot.location_id]).isoformat()
        bookings.append(
            Booking(
                patient_id=patient.pk,
                token=token_for(patient.user),
                body={
                    "service": service.pk,
                    "practitioner": slot.practitioner_id,
                    "start": start,
                    "location": slot.location_id,
                },
            )
        )
    if len(bookings) < count:
        print(f"Only {len(bookings)} non-colliding free slots for {count} bookings.")
    return bookings


# The server ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Gunicorn:
    """gunicorn serving bench/settings.py in its own process group; always stopped."""

    def __init__(self, env: dict[str, str], workers: int, log_path: Path):
        self.port = free_port()
        self.log = log_path.open("wb")
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "clinic.wsgi",
            "--workers",
            str(workers),
            "--bind",
            f"{HOST}:{self.port}",
            "--chdir",
            str(ROOT),
            "--timeout",
            "60",
        ]
        self.process = subprocess.Popen(
            command,
            env=env,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_until_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(
                    f"gunicorn exited with {self.process.returncode}; see {self.log.name}"
                )
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
                conn.request("GET", "/bench/trivial/")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"gunicorn did not answer within {timeout:.0f} s; see {self.log.name}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # the group this script started
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self.log.close()


# Measuring --------------------------------------------------------------------------------


@dataclass
class Workload:
    """A phase beside its baseline, and what the run asked of it."""

    phase: Phase
    baseline_name: str
    baseline_figure: str
    ratio: float | None
    target: str
    passed: bool | None
    expected: dict[str, int] | None = None  # status -> count the phase must answer

    def row(self) -> Row:
        phase = self.phase
        unexpected = self.unexpected()
        return Row(
            workload=f"{phase.name} ({phase.users} users)",
            figure=f"{phase.throughput:,.0f} req/s, p95 {phase.p95_ms:.0f} ms",
            baseline=f"{self.baseline_name}: {self.baseline_figure}",
            ratio=self.ratio,
            target=self.target,
            passed=None if self.passed is None else self.passed and not unexpected,
        )

    def unexpected(self) -> dict[str, int]:
        if self.expected is None:
            return {}
        statuses = self.phase.statuses
        return {
            status: statuses.get(status, 0)
            for status in set(statuses) | set(self.expected)
            if statuses.get(status, 0) != self.expected.get(status, 0)
        }


def throughput_against(
    phase: Phase, baseline: Phase, *, target_ratio: float | None, expected_status: str
) -> Workload:
    ratio = round(phase.throughput / baseline.throughput, 3)
    return Workload(
        phase=phase,
        baseline_name=baseline.name,
        baseline_figure=f"{baseline.throughput:,.0f} req/s",
        ratio=ratio,
        target="-" if target_ratio is None else f">= {target_ratio}x",
        passed=None if target_ratio is None else ratio >= target_ratio,
        expected={expected_status: phase.requests},
    )


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


def queries_per_answer(path: str, user) -> int:
    """The SQL statements one GET of `path` runs, through Django's test client."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}", HTTP_HOST=HOST)
    client.get(path)  # warm: the user's roles and the like
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    if response.status_code != 200:
        raise SystemExit(f"GET {path} answered {response.status_code}")
    return len(captured)


# Entry point ------------------------------------------------------------------------------


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

    from appointments.models import Appointment, Status
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
    # Every slot the run books is planned now, so that none collides with another: the
    # bookings, the free slots they then move to, and the contested slots.
    wanted = WARMUP + 2 * args.requests + args.contested_slots
    others = args.contenders - 1
    patients = assessed_patients_with_logins(wanted + args.contested_slots * others)
    planned = plan_bookings(service, patients[:wanted], wanted)
    contenders = patients[wanted:]
    if len(planned) < wanted:
        args.requests = (len(planned) - WARMUP - args.contested_slots) // 2
        print(f"Booking {args.requests} then, and moving each to one of as many others.")
    bookings = planned[: WARMUP + args.requests]
    targets = planned[WARMUP + args.requests : WARMUP + 2 * args.requests]
    slots = planned[WARMUP + 2 * args.requests :][: args.contested_slots]
    tokens_of = {b.patient_id: b.token for b in planned}
    tokens_of |= {p.pk: token_for(p.user) for p in contenders}
    list_users = [p.user for p in patients[:LIST_PATIENTS]]
    list_tokens = [token_for(user) for user in list_users]
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
        "a patient's appointment list": queries_per_answer("/api/v1/appointments/", list_users[0]),
        "a practitioner's note list": queries_per_answer(
            "/api/v1/treatment-notes/", practitioner.user
        ),
    }
    connection.close()  # the server has the database to itself while it is measured
    print(
        f"Prepared {len(bookings)} bookings, {len(contenders)} contenders and "
        f"{PGBENCH_SLOTS:,} pgbench slots for {seats} practitioners in "
        f"{time.perf_counter() - began:.1f} s; {appointments:,} appointments in the database; "
        f"queries per answer: {queries}."
    )

    availability = "/api/v1/availability/?" + urlencode(
        {
            "service": service.pk,
            "from": first_day.isoformat(),
            "to": (first_day + timedelta(days=13)).isoformat(),
        }
    )
    trivial = "/bench/trivial/"
    booking_body = bookings[0].body
    log_path = Path(tempfile.gettempdir()) / f"bench-api-gunicorn-{os.getpid()}.log"
    server = Gunicorn(env, args.workers, log_path)
    workloads: list[Workload] = []
    details: dict = {"queries_per_answer": queries}
    try:
        server.wait_until_ready()
        base_url = f"http://{HOST}:{server.port}"

        def measure(
            name: str, requests: list[Request], users: int | None = None, seconds: float = 0
        ) -> Phase:
            phase = run_locust(
                name,
                base_url,
                requests,
                users=users or args.users,
                max_seconds=seconds or args.seconds,
            )
            print(
                f"  {name}: {phase.requests} requests in {phase.seconds:.1f} s, "
                f"{phase.throughput:.0f} req/s, p95 {phase.p95_ms:.1f} ms, "
                f"{phase.mean_bytes} bytes per answer, {phase.statuses}"
            )
            return phase

        def many(make, n: int) -> list[Request]:
            return [make(i) for i in range(n)]

        print(
            f"\ngunicorn: {args.workers} sync workers on {HOST}:{server.port}; locust "
            f"{args.users} users; up to {args.seconds:.0f} s per phase\n"
        )
        big = 100_000  # more than any phase sends in --seconds: the clock ends it
        measure("warm-up", [get(trivial)] * WARMUP + [get(availability)] * WARMUP)

        # Availability, anonymous.
        trivial_get = measure("trivial GET, anonymous", [get(trivial)] * big)
        shown = measure("availability (14 days, whole clinic)", [get(availability)] * big)
        workloads.append(
            Workload(
                phase=shown,
                baseline_name=trivial_get.name,
                baseline_figure=f"{trivial_get.throughput:,.0f} req/s",
                ratio=round(shown.throughput / trivial_get.throughput, 3),
                target=f"p95 <= {AVAILABILITY_P95_MS:.0f} ms",
                passed=shown.p95_ms <= AVAILABILITY_P95_MS,
                expected={"200": shown.requests},
            )
        )

        # Booking: the database's own limit, the framework's floor, then the real thing.
        database_limit = pgbench_booking.run(url, clients=args.users, seconds=int(args.seconds))
        print(f"  pgbench booking INSERTs, {args.users} clients: {database_limit}")
        pgbench_booking.cleanup()
        connection.close()
        details["pgbench"] = database_limit
        tokens = [b.token for b in bookings]
        trivial_post = measure(
            "trivial POST, signed in",
            many(lambda i: post(trivial, booking_body, tokens[i % len(tokens)]), big),
        )
        measure(
            "warm-up", [post("/api/v1/appointments/", b.body, b.token) for b in bookings[:WARMUP]]
        )
        booked = measure(
            "book a free slot",
            [post("/api/v1/appointments/", b.body, b.token) for b in bookings[WARMUP:]],
        )
        ratio = round(booked.throughput / database_limit["tps"], 3)
        workloads.append(
            Workload(
                phase=booked,
                baseline_name=f"pgbench, {args.users} clients",
                baseline_figure=f"{database_limit['tps']:,.0f} bookings/s",
                ratio=ratio,
                target=f">= {PGBENCH_RATIO}x",
                passed=ratio >= PGBENCH_RATIO,
                expected={"201": booked.requests},
            )
        )
        workloads.append(
            throughput_against(booked, trivial_post, target_ratio=None, expected_status="201")
        )
        details["booking_against_trivial_post"] = workloads[-1].ratio

        # Reschedule each booking just made to another free slot, then cancel it.
        made = dict(
            Appointment.objects.filter(
                created_by__email__endswith="@" + BENCH_EMAIL_DOMAIN, status=Status.BOOKED
            ).values_list("patient_id", "pk")
        )
        connection.close()
        moved = measure(
            "reschedule",
            [
                post(
                    f"/api/v1/appointments/{made[booking.patient_id]}/reschedule/",
                    {"start": target.body["start"], "practitioner": target.body["practitioner"]},
                    booking.token,
                )
                for booking, target in zip(bookings[WARMUP:], targets, strict=False)
                if booking.patient_id in made
            ],
        )
        workloads.append(
            throughput_against(moved, booked, target_ratio=None, expected_status="200")
        )
        cancelled = measure(
            "cancel",
            [
                post(f"/api/v1/appointments/{pk}/cancel/", {"reason": "bench"}, tokens_of[p])
                for p, pk in made.items()
            ],
        )
        workloads.append(
            throughput_against(cancelled, booked, target_ratio=None, expected_status="200")
        )

        # Contention: many patients want the same slot at once.
        pool = [p.pk for p in contenders]
        requests = []
        for number, slot in enumerate(slots):
            askers = [slot.patient_id, *pool[number * others : (number + 1) * others]]
            requests += [post("/api/v1/appointments/", slot.body, tokens_of[a]) for a in askers]
        connection.close()
        # Every request is sent, whatever the time: a slot's verdict needs all its askers.
        contested = measure("contention", requests, users=args.contenders, seconds=1800)
        doubles = double_bookings()
        connection.close()
        details["contention"] = {
            "slots": len(slots),
            "requests_per_slot": args.contenders,
            "double_bookings": doubles,
        }
        workload = throughput_against(contested, booked, target_ratio=None, expected_status="201")
        workload.expected = {"201": len(slots), "409": len(requests) - len(slots)}
        workload.target = "0 double bookings, 1 booking per slot"
        workload.passed = not any(doubles.values())
        workloads.append(workload)

        # Lists, signed in.
        trivial_signed = measure(
            "trivial GET, signed in",
            many(lambda i: get(trivial, list_tokens[i % len(list_tokens)]), big),
        )
        history = measure(
            "a patient's appointment list",
            many(lambda i: get("/api/v1/appointments/", list_tokens[i % len(list_tokens)]), big),
        )
        notes = measure(
            "a practitioner's note list",
            many(lambda i: get("/api/v1/treatment-notes/", practitioner_token), big),
        )
        for phase in (history, notes):
            workloads.append(
                throughput_against(
                    phase, trivial_signed, target_ratio=LIST_RATIO, expected_status="200"
                )
            )
    finally:
        server.stop()
        made_now = delete_bench_bookings()
        pgbench_booking.cleanup()
        print(f"\ngunicorn stopped; deleted the {made_now} bookings this run made.\n")

    rows = [w.row() for w in workloads]
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
