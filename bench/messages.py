"""Benchmark the messages pipeline: draining due messages through a real Celery worker, and
the beat scan's claim query on a big table.

    python tools/devenv.py exec -- python bench/messages.py [--messages 10000] [--rows 1000000]

It never touches the development data: it uses a database of its own on DATABASE_URL's
server (`clinic_bench_messages`, or --db-name), created and migrated when missing, and a
Redis database of its own on REDIS_URL's server (number 13, or --redis-db), emptied at the
start. Its message tables are emptied at the start of every run.

1. Drain. --messages email reminders, due a minute ago, one for each of as many booked
   appointments of consenting bench patients (made once: 10,000 sessions of 20
   practitioners in the weeks ahead), inserted with bulk_create; then a worker
   (`celery -A clinic worker --concurrency 2`, NOTIFICATIONS_DELIVERY=outbox, so a "send"
   is the OutboxMessage row written in the transaction that marks the message sent; each
   send task carries NOTIFICATIONS_SEND_BATCH messages, as in production) is handed
   `dispatch_due` tasks until no message
   is pending or sending, or --budget seconds (90) have passed: then the figure is the
   messages sent over that time, and the report says the drain is partial. It also counts
   the database connections opened meanwhile. Baseline, same worker, same run, before (and
   after a complete drain): as many no-op tasks, enqueued the same way by fan-out tasks
   (bench/celery_noop.py), 500 a task as `dispatch_due` claims; timed until the broker holds
   no task, queued or unacknowledged. Target: messages/s at least 0.5x the no-op tasks/s
   (the better of the no-op runs).
2. Scan. --rows rows in the table (mostly sent, --due pending and due, --future pending
   later), inserted with INSERT ... SELECT generate_series, then VACUUM ANALYZE; then
   `claim_due(limit=500)` timed --runs times, each in a transaction rolled back. Baseline:
   the same call with the planner barred from index scans (a sequential scan). Target:
   p95 < 50 ms, and EXPLAIN shows the partial index `notification_pending_due` in use.

Quiet hours are switched off in the benchmark database (the clinic's would defer every
message at night). The run stops if another client empties its Redis database meanwhile
(a sentinel key vanishes): the tasks queued would be lost and the figures void. Prints a
table, writes bench/results/messages.json, and stops the worker whatever happens.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import create_database, setup_django, with_database

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "messages.json"
DEFAULT_DB_NAME = "clinic_bench_messages"
DEFAULT_REDIS_DB = 13
BENCH_EMAIL_DOMAIN = "bench.example"
PATIENTS = 1000
PRACTITIONERS = 20
APPOINTMENTS = 10_000  # booked, in the weeks ahead: what the reminders are for
BENCH_LOCATION = "Bench messages"
CLAIM_LIMIT = 500  # what dispatch_due claims per task
TARGET_DRAIN_RATIO = 0.5
TARGET_SCAN_P95_MS = 50.0
DRAIN_TIMEOUT_S = 100.0
PARTIAL_INDEX = "notification_pending_due"


# The benchmark's own database and Redis ----------------------------------------------------


def with_redis_db(redis_url: str, number: int) -> str:
    return urlunsplit(urlsplit(redis_url)._replace(path=f"/{number}"))


def worker_environment(database_url: str, redis_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=redis_url,
        CELERY_RESULT_BACKEND=redis_url,
        DJANGO_SETTINGS_MODULE="clinic.settings.base",
        DEBUG="0",
        NOTIFICATIONS_DELIVERY="outbox",
        LOG_LEVEL="WARNING",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    if len(env.get("SECRET_KEY", "")) < 50:
        env["SECRET_KEY"] = "benchmark-only-not-secret-" + "x" * 40
    return env


class Worker:
    """`celery -A clinic worker` in its own process group, stopped by `stop`."""

    def __init__(self, env: dict[str, str], concurrency: int) -> None:
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in stop()
            prefix="bench-messages-worker-", suffix=".log", delete=False
        )
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "clinic",
            "worker",
            "-I",
            "bench.celery_noop",
            "--concurrency",
            str(concurrency),
            "--pool",
            env.get("BENCH_WORKER_POOL", "prefork"),
            "--loglevel",
            env.get("BENCH_WORKER_LOGLEVEL", "WARNING"),
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--hostname",
            f"bench-messages-{os.getpid()}@%h",
        ]
        self.process = subprocess.Popen(
            command,
            env=env,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def check(self) -> None:
        if self.process.poll() is not None:
            raise SystemExit(
                f"the worker exited with {self.process.returncode}; see {self.log.name}"
            )

    def wait_until_ready(self, app, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check()
            if app.control.ping(timeout=0.5):
                return
        raise SystemExit(f"the worker did not answer within {timeout:.0f} s; see {self.log.name}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # warm shutdown: the pool finishes its current tasks
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        with contextlib.suppress(ProcessLookupError):  # any pool process left behind
            os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()


# Data ------------------------------------------------------------------------------------


def bench_patients() -> list[int]:
    """PATIENTS patients consenting to email, made once."""
    from patients.models import Patient

    existing = Patient.objects.filter(email__endswith="@" + BENCH_EMAIL_DOMAIN)
    if existing.count() < PATIENTS:
        Patient.objects.bulk_create(
            Patient(
                first_name=f"Bench{n}",
                last_name="Messages",
                date_of_birth="1980-01-01",
                email=f"bench{n}@{BENCH_EMAIL_DOMAIN}",
                consent_email=True,
            )
            for n in range(existing.count(), PATIENTS)
        )
    return list(existing.order_by("pk").values_list("pk", flat=True))


def empty_message_tables() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE notifications_outboxmessage, notifications_notification RESTART IDENTITY"
        )


def no_quiet_hours() -> None:
    from datetime import time as clock

    from notifications.models import MessagingSettings

    rules = MessagingSettings.current()
    rules.quiet_hours_start = rules.quiet_hours_end = clock(0)  # an empty span: never quiet
    rules.save()


def bench_appointments(patient_ids: list[int]) -> list[tuple[int, int]]:
    """APPOINTMENTS booked appointments in the coming weeks, made once: 20 practitioners,
    each in a room of their own, sessions back to back, patients taking turns. Returns
    (appointment, patient) pairs."""
    from decimal import Decimal

    from accounts.models import User
    from appointments.models import Appointment, Source, Status
    from practice.models import Discipline, Location, Practitioner, Room, RoomKind, Service

    existing = Appointment.objects.filter(location__name=BENCH_LOCATION, status=Status.BOOKED)
    if existing.count() < APPOINTMENTS:
        location, _ = Location.objects.get_or_create(
            name=BENCH_LOCATION, defaults={"time_zone": "Australia/Melbourne"}
        )
        service, _ = Service.objects.get_or_create(
            name="Bench myotherapy",
            defaults={
                "duration_minutes": 30,
                "price": Decimal("90.00"),
                "room_kind": RoomKind.TREATMENT,
                "disciplines": [Discipline.MYOTHERAPY],
            },
        )
        staff = []
        for n in range(PRACTITIONERS):
            user, _ = User.objects.get_or_create(
                email=f"practitioner{n}@{BENCH_EMAIL_DOMAIN}",
                defaults={"first_name": f"Bench{n}", "last_name": "Practitioner"},
            )
            practitioner, _ = Practitioner.objects.get_or_create(
                user=user, defaults={"disciplines": [Discipline.MYOTHERAPY]}
            )
            room, _ = Room.objects.get_or_create(
                location=location, name=f"Bench room {n}", defaults={"capacity": 1}
            )
            staff.append((practitioner, room))
        existing.delete()
        first = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=7)
        rows = []
        for n in range(APPOINTMENTS):
            slot, seat = divmod(n, PRACTITIONERS)  # seat-th practitioner's slot-th session
            practitioner, room = staff[seat]
            start = first + timedelta(minutes=30 * slot)
            rows.append(
                Appointment(
                    patient_id=patient_ids[n % len(patient_ids)],
                    practitioner=practitioner,
                    service=service,
                    location=location,
                    room=room,
                    start=start,
                    end=start + timedelta(minutes=30),
                    blocked_until=start + timedelta(minutes=30),
                    price=service.price,
                    status=Status.BOOKED,
                    source=Source.ONLINE,
                )
            )
        Appointment.objects.bulk_create(rows, batch_size=2000)
    return list(existing.order_by("pk").values_list("pk", "patient_id"))


def due_reminders(appointments: list[tuple[int, int]], count: int, tag: str) -> None:
    """`count` email reminders, due a minute ago, one per appointment."""
    from django.utils import timezone

    from notifications.models import Kind, MessageTemplate, Notification
    from patients.models import Channel

    assert MessageTemplate.objects.filter(kind=Kind.REMINDER, channel=Channel.EMAIL).exists()
    due = timezone.now() - timedelta(minutes=1)
    Notification.objects.bulk_create(
        (
            Notification(
                kind=Kind.REMINDER,
                channel=Channel.EMAIL,
                appointment_id=appointment_id,
                patient_id=patient_id,
                reason_key=f"bench:{tag}:{n}",
                due_at=due,
            )
            for n, (appointment_id, patient_id) in enumerate(appointments[:count])
        ),
        batch_size=2000,
    )


# 1. Drain --------------------------------------------------------------------------------


SENTINEL = "bench:messages:sentinel"


def broker_idle(client) -> bool:
    """No task queued, none delivered and unacknowledged (tasks are acked late). Stops the
    run if the sentinel key is gone: another client emptied the database, and with it the
    benchmark's queued tasks."""
    with client.pipeline() as pipe:
        pipe.exists(SENTINEL)
        pipe.llen("celery")
        pipe.hlen("unacked")
        sentinel, queued, unacked = pipe.execute()
    if not sentinel:
        raise SystemExit(
            "Another client emptied the benchmark's Redis database during the run (queued "
            "tasks were lost): the figures would be void. Pick a --redis-db nobody else uses."
        )
    return queued == 0 and unacked == 0


def run_noop(client, worker: Worker, count: int) -> float:
    """Seconds for the worker to run `count` no-op tasks, fanned out CLAIM_LIMIT a task."""
    from bench.celery_noop import noop_fanout

    began = time.perf_counter()
    left = count
    while left > 0:
        noop_fanout.delay(min(CLAIM_LIMIT, left))
        left -= CLAIM_LIMIT
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while not broker_idle(client):
        worker.check()
        if time.monotonic() > deadline:
            raise SystemExit("the no-op tasks did not drain in time")
        time.sleep(0.005)
    return time.perf_counter() - began


def unfinished() -> tuple[int, int]:
    from django.db.models import Count, Q
    from django.utils import timezone

    from notifications.models import Delivery, Notification

    counts = Notification.objects.aggregate(
        due=Count("pk", filter=Q(status=Delivery.PENDING, due_at__lte=timezone.now())),
        open=Count("pk", filter=Q(status__in=[Delivery.PENDING, Delivery.SENDING])),
    )
    return counts["due"], counts["open"]


def run_drain(client, worker: Worker, count: int, budget: float) -> tuple[float, int, int]:
    """Send `count` due messages through the worker: one dispatch_due per CLAIM_LIMIT
    messages at first, another whenever messages are still due and the broker is idle.
    Stops when none is pending or sending, or after `budget` seconds. Returns the seconds,
    the messages sent and the dispatch_due tasks sent."""
    from notifications.models import Delivery, Notification
    from notifications.tasks import dispatch_due

    began = time.perf_counter()
    dispatches = math.ceil(count / CLAIM_LIMIT)
    for _ in range(dispatches):
        dispatch_due.delay()
    while True:
        due, still_open = unfinished()
        idle = broker_idle(client)
        if still_open == 0 or time.perf_counter() - began > budget:
            break
        worker.check()
        if due and idle:
            dispatch_due.delay()
            dispatches += 1
        time.sleep(0.05)
    elapsed = time.perf_counter() - began
    return elapsed, Notification.objects.filter(status=Delivery.SENT).count(), dispatches


def database_sessions() -> int:
    """Connections ever opened to this database (PostgreSQL 14+), this process's included."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def drain(args, env: dict[str, str], redis_url: str, appointments: list[tuple[int, int]]) -> dict:
    import redis
    from django.conf import settings
    from django.db.models import Count

    from clinic.celery import app
    from notifications.models import Notification, OutboxMessage

    client = redis.Redis.from_url(redis_url)
    number = client.connection_pool.connection_kwargs.get("db", 0)
    others = [c for c in client.client_list() if int(c.get("db", -1)) == number]
    if len(others) > 1:  # this connection is one of them
        raise SystemExit(
            f"{len(others) - 1} other client(s) use Redis database {number}: another worker "
            "would take the benchmark's tasks. Pick another --redis-db."
        )
    client.flushdb()  # the benchmark's own Redis database
    client.set(SENTINEL, "1")
    worker = Worker(env, args.concurrency)
    noop_seconds = []
    try:
        worker.wait_until_ready(app)
        # Warm up: the worker's processes import, connect and prepare their statements.
        due_reminders(appointments, 200, "warmup")
        run_noop(client, worker, 1000)
        run_drain(client, worker, 200, budget=30)
        empty_message_tables()

        due_reminders(appointments, args.messages, "drain")
        noop_seconds.append(run_noop(client, worker, args.messages))
        sessions_before = database_sessions()
        drain_s, sent, dispatches = run_drain(client, worker, args.messages, args.budget)
        sessions = database_sessions() - sessions_before
        if sent == args.messages:  # else send tasks are still queued: no clean second run
            noop_seconds.append(run_noop(client, worker, args.messages))
    finally:
        worker.stop()
        client.flushdb()
    statuses = dict(Notification.objects.values_list("status").annotate(n=Count("pk")).order_by())
    outbox = OutboxMessage.objects.count()
    noop_rates = [args.messages / seconds for seconds in noop_seconds]
    rate = sent / drain_s
    baseline = max(noop_rates)
    return {
        "workload": f"drain {args.messages:,} due messages",
        "messages": args.messages,
        "concurrency": args.concurrency,
        "messages_per_send_task": settings.NOTIFICATIONS_SEND_BATCH,
        "delivery": "outbox",
        "sent": sent,
        "complete": sent == args.messages,
        "budget_seconds": args.budget,
        "seconds": round(drain_s, 2),
        "messages_per_s": round(rate, 1),
        "dispatch_due_tasks": dispatches,
        "database_connections_opened": sessions,
        "statuses_after": statuses,
        "outbox_rows": outbox,
        "noop_tasks": args.messages,
        "noop_seconds": [round(seconds, 2) for seconds in noop_seconds],
        "noop_tasks_per_s": [round(r, 1) for r in noop_rates],
        "baseline_tasks_per_s": round(baseline, 1),
        "ratio": round(rate / baseline, 3),
        "target_ratio": TARGET_DRAIN_RATIO,
        "one_outbox_row_per_sent_message": statuses.get("sent", 0) == outbox,
        "meets_target": rate >= TARGET_DRAIN_RATIO * baseline,
    }


# 2. Scan ---------------------------------------------------------------------------------


def fill_table(patient_ids: list[int], rows: int, due: int, future: int) -> float:
    """`rows` notifications: `due` pending and due, `future` pending later, the rest sent
    over the past two years. Returns the seconds it took, VACUUM ANALYZE included."""
    from django.db import connection, transaction

    empty_message_tables()
    began = time.perf_counter()
    sql = """
        INSERT INTO notifications_notification (
            kind, channel, patient_id, appointment_id, reason_key, due_at, status, attempts,
            claimed_at, sent_at, recipient, subject, body, last_error, created_at, updated_at
        )
        SELECT 'recall', 'email', (%(patients)s::bigint[])[1 + n %% %(count)s], NULL,
            'bench:scan:' || n, d.due_at, d.status,
            CASE WHEN d.status = 'sent' THEN 1 ELSE 0 END,
            CASE WHEN d.status = 'sent' THEN d.due_at END,
            CASE WHEN d.status = 'sent' THEN d.due_at + interval '2 seconds' END,
            CASE WHEN d.status = 'sent' THEN 'bench' || n || '@bench.example' ELSE '' END,
            CASE WHEN d.status = 'sent' THEN 'How is your back?' ELSE '' END,
            CASE WHEN d.status = 'sent'
                THEN 'Hi, we have not seen you for a while. Book a session.' ELSE '' END,
            '', d.due_at - interval '1 day', d.due_at
        FROM generate_series(1, %(rows)s) AS n
        CROSS JOIN LATERAL (
            SELECT
                CASE
                    WHEN n <= %(due)s THEN now() - (n %% 1440) * interval '1 minute'
                    WHEN n <= %(due)s + %(future)s THEN now() + (n %% 20160) * interval '1 minute'
                    ELSE now() - interval '1 hour' - (n %% 1051200) * interval '1 minute'
                END AS due_at,
                CASE WHEN n <= %(due)s + %(future)s THEN 'pending' ELSE 'sent' END AS status
        ) AS d
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "patients": patient_ids,
                "count": len(patient_ids),
                "rows": rows,
                "due": due,
                "future": future,
            },
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE notifications_notification")
    return time.perf_counter() - began


def time_claims(runs: int, *, sequential: bool) -> tuple[list[float], int]:
    from django.db import connection, transaction

    from notifications.services import claim_due

    timings: list[float] = []
    claimed = 0
    for _ in range(runs):
        with transaction.atomic():
            if sequential:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off; "
                        "SET LOCAL enable_indexonlyscan = off"
                    )
            began = time.perf_counter()
            ids = claim_due(limit=CLAIM_LIMIT)
            timings.append((time.perf_counter() - began) * 1000)
            claimed = len(ids)
            transaction.set_rollback(True)
    return timings, claimed


def explain_claim() -> list[str]:
    """EXPLAIN ANALYZE of the claim's SELECT, captured from a real claim_due call."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from notifications.services import claim_due

    with transaction.atomic():
        with CaptureQueriesContext(connection) as queries:
            claim_due(limit=CLAIM_LIMIT)
        transaction.set_rollback(True)
    select = next(q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT"))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + select)
        lines = [row[0] for row in cursor.fetchall()]
        transaction.set_rollback(True)
    return lines


def percentile(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


def scan(args, patient_ids: list[int]) -> dict:
    from django.db.models import Count

    from notifications.models import Notification

    fill_s = fill_table(patient_ids, args.rows, args.due, args.future)
    statuses = dict(Notification.objects.values_list("status").annotate(n=Count("pk")).order_by())
    time_claims(5, sequential=False)  # warm-up
    timings, claimed = time_claims(args.runs, sequential=False)
    seq_timings, _ = time_claims(max(3, args.runs // 10), sequential=True)
    plan = explain_claim()
    p95 = percentile(timings, 95)
    seq_p95 = percentile(seq_timings, 95)
    index_used = any(PARTIAL_INDEX in line for line in plan)
    return {
        "workload": f"claim_due(limit={CLAIM_LIMIT}), {args.rows:,} rows",
        "rows": args.rows,
        "statuses": statuses,
        "fill_seconds": round(fill_s, 1),
        "runs": args.runs,
        "claimed_per_call": claimed,
        "p50_ms": round(percentile(timings, 50), 2),
        "p95_ms": round(p95, 2),
        "max_ms": round(max(timings), 2),
        "baseline": "the same claim_due with index scans disabled (sequential scan)",
        "baseline_runs": len(seq_timings),
        "baseline_p50_ms": round(percentile(seq_timings, 50), 2),
        "baseline_p95_ms": round(seq_p95, 2),
        "ratio_p95": round(p95 / seq_p95, 3),
        "target_p95_ms": TARGET_SCAN_P95_MS,
        "partial_index_used": index_used,
        "explain": plan,
        "meets_target": p95 < TARGET_SCAN_P95_MS and index_used,
    }


# Report ----------------------------------------------------------------------------------


def rows_of(drained: dict, scanned: dict) -> list:
    from bench.report import Row

    return [
        Row(
            workload=drained["workload"],
            figure=f"{drained['messages_per_s']:,.0f} messages/s",
            baseline=f"{drained['baseline_tasks_per_s']:,.0f} no-op tasks/s",
            ratio=drained["ratio"],
            target=f">= {TARGET_DRAIN_RATIO}x no-op",
            passed=drained["meets_target"],
        ),
        Row(
            workload=scanned["workload"],
            figure=f"p50 {scanned['p50_ms']:.1f} / p95 {scanned['p95_ms']:.1f} ms",
            baseline=f"seq scan p95 {scanned['baseline_p95_ms']:.0f} ms",
            ratio=scanned["ratio_p95"],
            target=f"p95 < {TARGET_SCAN_P95_MS:.0f} ms, {PARTIAL_INDEX}",
            passed=scanned["meets_target"],
        ),
    ]


def print_details(drained: dict, scanned: dict) -> None:
    partial = "" if drained["complete"] else f" (stopped after {drained['budget_seconds']} s)"
    print(
        f"Drain: {drained['sent']:,} of {drained['messages']:,} messages sent in "
        f"{drained['seconds']:.1f} s{partial} with {drained['dispatch_due_tasks']} dispatch_due "
        f"tasks and send tasks of {drained['messages_per_send_task']} messages, worker "
        f"--concurrency {drained['concurrency']}, outbox delivery; after: "
        f"{drained['statuses_after']}, {drained['outbox_rows']:,} outbox rows, "
        f"{drained['database_connections_opened']:,} database connections opened. No-op runs: "
        + " / ".join(f"{rate:,.0f}" for rate in drained["noop_tasks_per_s"])
        + " tasks/s (the best is the baseline)."
    )
    print(
        f"Scan: {scanned['statuses']} (filled and analysed in {scanned['fill_seconds']} s); "
        f"{scanned['claimed_per_call']} claimed per call, {scanned['runs']} runs, "
        f"partial index used: {scanned['partial_index_used']}. EXPLAIN (ANALYZE, BUFFERS):"
    )
    for line in scanned["explain"]:
        print("    " + line)


# Entry point -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=10_000, help="messages to drain")
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes")
    parser.add_argument("--budget", type=float, default=90.0, help="seconds at most for the drain")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows for the scan")
    parser.add_argument("--due", type=int, default=3_000, help="of which pending and due")
    parser.add_argument("--future", type=int, default=20_000, help="of which pending later")
    parser.add_argument("--runs", type=int, default=50, help="timed claim_due calls")
    parser.add_argument("--db-name", default=DEFAULT_DB_NAME, help="the benchmark's database")
    parser.add_argument("--redis-db", type=int, default=DEFAULT_REDIS_DB, help="emptied first")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write JSON")
    args = parser.parse_args(argv)
    if not CLAIM_LIMIT <= args.messages <= APPOINTMENTS or args.runs < 2 or args.concurrency < 1:
        parser.error(f"--messages must be {CLAIM_LIMIT} to {APPOINTMENTS:,}, --runs at least 2")
    if args.due + args.future > args.rows:
        parser.error("--due plus --future must not exceed --rows")
    for name in ("DATABASE_URL", "REDIS_URL"):
        if not os.environ.get(name):
            raise SystemExit(f"{name} is not set; run through `python tools/devenv.py exec --`.")

    # A plain `kill` must also stop the worker: turn SIGTERM into SystemExit, so `finally` runs.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

    url = with_database(os.environ["DATABASE_URL"], args.db_name)
    redis_url = with_redis_db(os.environ["REDIS_URL"], args.redis_db)
    if create_database(os.environ["DATABASE_URL"], args.db_name):
        print(f"Created database {args.db_name}.")
    env = worker_environment(url, redis_url)
    setup_django(url, **env)

    from django.db import connection

    began = time.perf_counter()
    patient_ids = bench_patients()
    no_quiet_hours()
    empty_message_tables()
    print(f"Database {args.db_name}, Redis {redis_url}\n")

    drained = drain(args, env, redis_url, bench_appointments(patient_ids))
    scanned = scan(args, patient_ids)
    empty_message_tables()  # leave the database small
    from bench.report import print_table

    print_table(rows_of(drained, scanned))
    print()
    print_details(drained, scanned)

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (server_version,) = cursor.fetchone()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "notifications: drain through a Celery worker, claim_due scan",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": args.db_name,
        "redis": redis_url,
        "python": platform.python_version(),
        "postgresql": server_version,
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "seconds": round(time.perf_counter() - began, 1),
        "drain": drained,
        "scan": scanned,
        "rows": [asdict(row) for row in rows_of(drained, scanned)],
    }
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nWrote {args.output} ({report['seconds']} s in all)")
    missed = not (drained["meets_target"] and scanned["meets_target"])
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
