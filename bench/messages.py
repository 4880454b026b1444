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
   (bench/celery_noop.py), CLAIM_LIMIT (200) a task as `dispatch_due` claims; timed until
   the broker holds no task, queued or unacknowledged. Target: messages/s at least 0.5x the
   no-op tasks/s (the better of the no-op runs).
2. Scan. --rows rows in the table (mostly sent, --due pending and due, --future pending
   later), inserted with INSERT ... SELECT generate_series, then VACUUM ANALYZE; then
   `claim_due(limit=200)` (NOTIFICATIONS_CLAIM_BATCH) timed --runs times, each in a
   transaction rolled back. Baseline: the same call with the planner barred from index scans
   (a sequential scan). Target: p95 < 20 ms, and EXPLAIN shows the partial index
   `notification_pending_due` in use.

Quiet hours are switched off in the benchmark database (the clinic's would defer every
message at night). The run stops if another client empties its Redis database meanwhile
(a sentinel key vanishes): the tasks queued would be lost and the figures void. Prints a
table, writes bench/results/messages.json, and stops the worker whatever happens.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import create_database, postgresql_version, setup_django, with_database
from bench.messages_data import (
    APPOINTMENTS,
    CLAIM_LIMIT,
    bench_appointments,
    bench_patients,
    empty_message_tables,
    no_quiet_hours,
)
from bench.messages_drain import TARGET_DRAIN_RATIO, drain
from bench.messages_scan import PARTIAL_INDEX, TARGET_SCAN_P95_MS, scan
from bench.report import RESULTS, Row, print_table, write
from bench.servers import with_redis_db, worker_environment

DEFAULT_DB_NAME = "clinic_bench_messages"
DEFAULT_REDIS_DB = 13


# Report ----------------------------------------------------------------------------------


def rows_of(drained: dict, scanned: dict) -> list[Row]:
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
    parser.add_argument("--output", type=Path, default=RESULTS / "messages.json")
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

    began = time.perf_counter()
    patient_ids = bench_patients()
    no_quiet_hours()
    empty_message_tables()
    print(f"Database {args.db_name}, Redis {redis_url}\n")

    drained = drain(args, env, redis_url, bench_appointments(patient_ids))
    scanned = scan(args, patient_ids)
    empty_message_tables()  # leave the database small
    print_table(rows_of(drained, scanned))
    print()
    print_details(drained, scanned)

    seconds = round(time.perf_counter() - began, 1)
    write(
        args.output,
        "notifications: drain through a Celery worker, claim_due scan",
        rows_of(drained, scanned),
        database=args.db_name,
        redis=redis_url,
        postgresql=postgresql_version(),
        seconds=seconds,
        drain=drained,
        scan=scanned,
    )
    print(f"({seconds} s in all)")
    missed = not (drained["meets_target"] and scanned["meets_target"])
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
