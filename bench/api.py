"""HTTP benchmark: the API under gunicorn, each workload beside a trivial DRF endpoint.

    python tools/devenv.py exec -- python bench/api.py [--requests 1000] [--seconds 20]

It serves the API the way production does (gunicorn, sync workers, DEBUG off) from a
database of its own on DATABASE_URL's server (`clinic_bench_api`, or --db-name), created,
migrated and seeded with the busy clinic of bench/busy_clinic.py when missing. A load
generator in this process (--concurrency threads, one `http.client` connection each, which
gunicorn's sync workers close after each answer, as in production) sends only to 127.0.0.1
and measures, in one run:

- availability: GET /api/v1/availability/ for one service, the whole clinic, 14 days,
  anonymously, beside an anonymous GET of the trivial endpoint;
- booking: POST /api/v1/appointments/, each request a distinct patient (signed in, already
  assessed) booking a distinct free slot, beside an authenticated POST of the trivial
  endpoint with the same body;
- a patient's list: GET /api/v1/appointments/ as one of 50 patients in turn, beside an
  authenticated GET of the trivial endpoint.

The trivial endpoint (bench/urls.py, served through bench/settings.py only) is a DRF view
returning {"ok": true}: the framework's floor with the same authentication. Each phase
sends --requests requests (--baseline-requests for the trivial endpoint, which answers
in about a millisecond) or stops after --seconds. Bookings answered 409 or 5xx are
counted and reported apart. Prints a table, writes bench/results/api.json, stops gunicorn
whatever happens, and deletes the bookings it made so the next run starts alike.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "api.json"
DEFAULT_DB_NAME = "clinic_bench_api"
SERVICE = "Myotherapy — SMM (45 min)"
HOST = "127.0.0.1"
BENCH_EMAIL_DOMAIN = "bench.example"
LIST_PATIENTS = 50
WARMUP = 20  # untimed requests before each phase
AVAILABILITY_P95_MS = 60.0
MIN_RATIO = 0.5


# The benchmark's own database -------------------------------------------------------------


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def create_database(server_url: str, name: str, *, drop_first: bool) -> None:
    """Create `name` on the server if missing, through its `postgres` maintenance database."""
    import psycopg
    from psycopg import sql

    identifier = sql.Identifier(name)
    admin = with_database(server_url, "postgres")
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
        if drop_first:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier))
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(identifier))
            print(f"Created database {name}.")


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


def setup_django(env: dict[str, str]) -> None:
    # The same SECRET_KEY as the server's: the tokens minted here must verify there.
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DEBUG")})
    os.environ.update({k: env[k] for k in ("SECRET_KEY", "ALLOWED_HOSTS", "SECURE_SSL_REDIRECT")})
    os.environ["LOG_LEVEL"] = env["LOG_LEVEL"]
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


# Test data: logins, tokens and the bookings to make ---------------------------------------


@dataclass(frozen=True)
class Booking:
    token: str
    body: dict


def delete_bench_bookings() -> int:
    """Delete the appointments that the benchmark's logins booked."""
    from appointments.models import Appointment

    deleted, _ = Appointment.objects.filter(
        created_by__email__endswith="@" + BENCH_EMAIL_DOMAIN
    ).delete()
    return deleted


def assessed_patients_with_logins(count: int) -> list:
    """`count` active patients who had a completed session, each with a login of its own
    (created on first use as <patient id>@bench.example, no usable password)."""
    from django.db import transaction
    from django.db.models import Exists, OuterRef, Q

    from accounts.models import User
    from appointments.models import Appointment, Status
    from patients.models import Patient

    completed = Appointment.objects.filter(patient=OuterRef("pk"), status=Status.COMPLETED)
    patients = list(
        Patient.objects.filter(Exists(completed), is_active=True)
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
    return list(Patient.objects.filter(pk__in=[p.pk for p in patients]).select_related("user"))


def token_for(user) -> str:
    from rest_framework_simplejwt.tokens import AccessToken

    return str(AccessToken.for_user(user))


def plan_bookings(service, count: int, seed: int = 1729) -> list[Booking]:
    """`count` online bookings that should all succeed: distinct free slots (from
    `free_slots`, as patients see them) that do not collide with one another on a
    practitioner, a room place or a patient, each for a distinct assessed patient."""
    from django.utils import timezone

    from appointments.availability import MAX_APPOINTMENT_SPAN, free_slots
    from appointments.models import OCCUPYING_STATUSES, Appointment
    from practice.models import BookingRules, Location, Room

    today = timezone.localdate()
    rules = BookingRules.current()
    slots = free_slots(
        service, today, today + timedelta(days=rules.online_horizon_days), online=True
    )
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

    patients = assessed_patients_with_logins(count + count // 5 + 10)
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
        print(f"Only {len(bookings)} non-colliding free slots; booking that many.")
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


# The load generator ----------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None


def get(path: str, token: str | None = None) -> Request:
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return Request("GET", path, headers)


def post(path: str, body: dict, token: str) -> Request:
    headers = {
        "Accept": "application/json",
        "Content-Type": "application/json",
        "Authorization": f"Bearer {token}",
    }
    return Request("POST", path, headers, json.dumps(body).encode())


@dataclass
class Phase:
    name: str
    requests: int
    seconds: float
    throughput: float
    p50_ms: float
    p95_ms: float
    max_ms: float
    mean_bytes: int
    statuses: dict[str, int]


def percentile(samples: list[float], q: int) -> float:
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


def load(
    name: str, port: int, requests: list[Request], *, concurrency: int, seconds: float
) -> Phase:
    """Send `requests` in order, `concurrency` at a time, until done or `seconds` passed."""
    lock = threading.Lock()
    queue = iter(requests)
    latencies: list[float] = []
    sizes: list[int] = []
    statuses: Counter = Counter()
    deadline = time.monotonic() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        try:
            while time.monotonic() < deadline:
                with lock:
                    request = next(queue, None)
                if request is None:
                    return
                began = time.perf_counter()
                try:
                    conn.request(request.method, request.path, request.body, request.headers)
                    response = conn.getresponse()
                    size = len(response.read())
                    outcome = str(response.status)
                except (OSError, http.client.HTTPException) as error:
                    conn.close()  # reconnects on the next request
                    size, outcome = 0, type(error).__name__
                elapsed = (time.perf_counter() - began) * 1000
                with lock:
                    latencies.append(elapsed)
                    sizes.append(size)
                    statuses[outcome] += 1
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    wall = time.perf_counter() - began
    if not latencies:
        raise SystemExit(f"{name}: no request was answered")
    return Phase(
        name=name,
        requests=len(latencies),
        seconds=round(wall, 2),
        throughput=round(len(latencies) / wall, 1),
        p50_ms=round(percentile(latencies, 50), 2),
        p95_ms=round(percentile(latencies, 95), 2),
        max_ms=round(max(latencies), 2),
        mean_bytes=round(statistics.fmean(sizes)),
        statuses=dict(sorted(statuses.items())),
    )


@dataclass
class Result:
    workload: str
    phase: Phase
    baseline: Phase
    ratio: float
    target: str
    passed: bool
    expected_status: int
    unexpected: dict[str, int]


def compare(
    workload: Phase, baseline: Phase, *, expected_status: int, p95_ms: float | None
) -> Result:
    ratio = round(workload.throughput / baseline.throughput, 3)
    if p95_ms is not None:
        target, passed = f"p95 <= {p95_ms:.0f} ms", workload.p95_ms <= p95_ms
    else:
        target, passed = f">= {MIN_RATIO}x trivial req/s", ratio >= MIN_RATIO
    unexpected = {s: n for s, n in workload.statuses.items() if s != str(expected_status)}
    return Result(
        workload=workload.name,
        phase=workload,
        baseline=baseline,
        ratio=ratio,
        target=target,
        passed=passed and not unexpected,
        expected_status=expected_status,
        unexpected=unexpected,
    )


def print_table(results: list[Result]) -> None:
    header = (
        "workload",
        "requests",
        "req/s",
        "p50 ms",
        "p95 ms",
        "trivial req/s",
        "trivial p95",
        "ratio",
        "target",
        "result",
    )
    lines = [header]
    for r in results:
        verdict = "pass" if r.passed else "FAIL"
        if r.unexpected:
            verdict += " (" + ", ".join(f"{n}x {s}" for s, n in r.unexpected.items()) + ")"
        lines.append(
            (
                r.workload,
                str(r.phase.requests),
                f"{r.phase.throughput:.0f}",
                f"{r.phase.p50_ms:.1f}",
                f"{r.phase.p95_ms:.1f}",
                f"{r.baseline.throughput:.0f}",
                f"{r.baseline.p95_ms:.1f}",
                f"{r.ratio:.2f}x",
                r.target,
                verdict,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for n, line in enumerate(lines):
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
        if n == 0:
            print("  ".join("-" * width for width in widths))


# Entry point ------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=1000, help="per phase, at most")
    parser.add_argument(
        "--baseline-requests",
        type=int,
        default=5000,
        help="per trivial-endpoint phase, at most (it answers in about a millisecond)",
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="per phase, at most")
    parser.add_argument("--concurrency", type=int, default=2, help="requests in flight")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--db-name", default=DEFAULT_DB_NAME, help="the benchmark's database")
    parser.add_argument("--reseed", action="store_true", help="drop the database, seed again")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write JSON")
    args = parser.parse_args(argv)
    if min(args.requests, args.baseline_requests) < WARMUP or not 0 < args.seconds <= 60:
        parser.error(f"--requests must be at least {WARMUP}; --seconds in (0, 60]")
    if args.concurrency < 1 or args.concurrency > 64 or args.workers < 1:
        parser.error("--concurrency must be 1..64, --workers at least 1")
    for name in ("DATABASE_URL", "REDIS_URL"):
        if not os.environ.get(name):
            raise SystemExit(f"{name} is not set; run through `python tools/devenv.py exec --`.")

    # A plain `kill` must also stop gunicorn: turn SIGTERM into SystemExit, so `finally` runs.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

    url = with_database(os.environ["DATABASE_URL"], args.db_name)
    create_database(os.environ["DATABASE_URL"], args.db_name, drop_first=args.reseed)
    env = server_environment(url)
    setup_django(env)

    from django.db import connection
    from django.utils import timezone

    from appointments.models import Appointment
    from bench import busy_clinic
    from practice.models import Service

    if busy_clinic.is_seeded():
        print(f"Reusing the benchmark data in {args.db_name}.")
    else:
        began = time.perf_counter()
        counts = busy_clinic.seed(timezone.localdate())
        print(
            f"Seeded {args.db_name} in {time.perf_counter() - began:.1f} s: "
            + ", ".join(f"{n} {what}" for what, n in counts.items())
        )
    stale = delete_bench_bookings()
    if stale:
        print(f"Deleted {stale} bookings left by an earlier run.")

    began = time.perf_counter()
    service = Service.objects.get(name=SERVICE)
    today = timezone.localdate()
    first_day = today + timedelta(days=7 - today.weekday())  # next Monday
    bookings = plan_bookings(service, args.requests + WARMUP)
    list_tokens = [token_for(p.user) for p in assessed_patients_with_logins(LIST_PATIENTS)]
    appointments = Appointment.objects.count()
    connection.close()  # the server has the database to itself while it is measured
    print(
        f"Prepared {len(bookings)} bookings and {len(list_tokens)} patients' logins in "
        f"{time.perf_counter() - began:.1f} s; {appointments} appointments in the database."
    )

    availability = "/api/v1/availability/?" + urlencode(
        {
            "service": service.pk,
            "from": first_day.isoformat(),
            "to": (first_day + timedelta(days=13)).isoformat(),
        }
    )
    trivial = "/bench/trivial/"

    def rotate(make, n: int) -> list[Request]:
        return [make(i) for i in range(n)]

    n, nb = args.requests, args.baseline_requests
    booking_body = bookings[0].body
    log_path = Path(tempfile.gettempdir()) / f"bench-api-gunicorn-{os.getpid()}.log"
    server = Gunicorn(env, args.workers, log_path)
    results: list[Result] = []
    try:
        server.wait_until_ready()

        def measure(name: str, requests: list[Request]) -> Phase:
            phase = load(
                name,
                server.port,
                requests,
                concurrency=args.concurrency,
                seconds=args.seconds,
            )
            print(
                f"  {name}: {phase.requests} requests in {phase.seconds:.1f} s, "
                f"{phase.throughput:.0f} req/s, p95 {phase.p95_ms:.1f} ms, "
                f"{phase.mean_bytes} bytes per answer, {phase.statuses}"
            )
            return phase

        def warm(requests: list[Request]) -> None:
            load("warm-up", server.port, requests, concurrency=args.concurrency, seconds=30)

        print(
            f"\ngunicorn: {args.workers} sync workers on {HOST}:{server.port}; "
            f"{args.concurrency} requests in flight; up to {n} requests or "
            f"{args.seconds:.0f} s per phase\n"
        )
        warm([get(trivial)] * WARMUP + [get(availability)] * WARMUP)
        results.append(
            compare(
                measure("availability (14 days, whole clinic)", [get(availability)] * n),
                measure("trivial GET, anonymous", [get(trivial)] * nb),
                expected_status=200,
                p95_ms=AVAILABILITY_P95_MS,
            )
        )

        warm([post(trivial, booking_body, b.token) for b in bookings[:WARMUP]])
        warm([post("/api/v1/appointments/", b.body, b.token) for b in bookings[:WARMUP]])
        trivial_posts = rotate(
            lambda i: post(trivial, booking_body, bookings[i % len(bookings)].token), nb
        )
        bookings_left = [post("/api/v1/appointments/", b.body, b.token) for b in bookings[WARMUP:]]
        results.append(
            compare(
                measure("POST /appointments/ (free slots)", bookings_left),
                measure("trivial POST, signed in", trivial_posts),
                expected_status=201,
                p95_ms=None,
            )
        )

        tokens = len(list_tokens)
        warm(rotate(lambda i: get("/api/v1/appointments/", list_tokens[i % tokens]), WARMUP))
        results.append(
            compare(
                measure(
                    "a patient's appointment list",
                    rotate(lambda i: get("/api/v1/appointments/", list_tokens[i % tokens]), n),
                ),
                measure(
                    "trivial GET, signed in",
                    rotate(lambda i: get(trivial, list_tokens[i % tokens]), nb),
                ),
                expected_status=200,
                p95_ms=None,
            )
        )
    finally:
        server.stop()
        made = delete_bench_bookings()
        print(f"\ngunicorn stopped; deleted the {made} bookings this run made.\n")

    print_table(results)
    load_average = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    report = {
        "benchmark": "HTTP API under gunicorn, each workload beside a trivial DRF endpoint",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": args.db_name,
        "appointments": appointments,
        "service": SERVICE,
        "availability_window": {"first_day": first_day.isoformat(), "days": 14},
        "gunicorn_workers": args.workers,
        "concurrency": args.concurrency,
        "max_requests_per_phase": n,
        "max_requests_per_trivial_phase": nb,
        "max_seconds_per_phase": args.seconds,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average": load_average,
        "results": [asdict(result) for result in results],
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nWrote {args.output}")
    return 1 if args.check and not all(r.passed for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
