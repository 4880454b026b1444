"""The messages benchmark's drain: due reminders sent through a real Celery worker (outbox
delivery), beside as many no-op tasks through the same worker and broker.

Import after `django.setup()`.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from pathlib import Path

from bench.messages_data import CLAIM_LIMIT, due_reminders, empty_message_tables
from bench.servers import CeleryWorker

TARGET_DRAIN_RATIO = 0.5
DRAIN_TIMEOUT_S = 100.0

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


def run_noop(client, worker: CeleryWorker, count: int) -> float:
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


def run_drain(client, worker: CeleryWorker, count: int, budget: float) -> tuple[float, int, int]:
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
    log_path = Path(tempfile.gettempdir()) / f"bench-messages-worker-{os.getpid()}.log"
    worker = CeleryWorker(env, args.concurrency, log_path)
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
