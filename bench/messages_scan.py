"""The messages benchmark's scan: the beat's claim of due messages on a big table, beside
the same claim with the planner barred from index scans. Import after `django.setup()`.
"""

from __future__ import annotations

import time

from bench.load import Call, elapsed_ms, time_calls
from bench.messages_data import CLAIM_LIMIT, empty_message_tables
from bench.stats import spread

TARGET_SCAN_P95_MS = 20.0
PARTIAL_INDEX = "notification_pending_due"


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


def claim(*, sequential: bool) -> Call:
    """A call of `claim_due`, timed inside a transaction that is then rolled back, so every
    call meets the same table; `sequential` bars the planner from index scans."""
    from django.db import connection, transaction

    from notifications.services import claim_due

    def call() -> float:
        with transaction.atomic():
            if sequential:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off; "
                        "SET LOCAL enable_indexonlyscan = off"
                    )
            began = time.perf_counter()
            claim_due(limit=CLAIM_LIMIT)
            ms = elapsed_ms(began)
            transaction.set_rollback(True)
        return ms

    return call


def explain_claim() -> tuple[list[str], int]:
    """EXPLAIN ANALYZE of the claim (an UPDATE of what its CTE picks), captured from
    a real claim_due call, and how many messages that call claimed."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from notifications.services import claim_due

    with transaction.atomic():
        with CaptureQueriesContext(connection) as queries:
            claimed = len(claim_due(limit=CLAIM_LIMIT))
        transaction.set_rollback(True)
    select = next(q["sql"] for q in queries.captured_queries if q["sql"].startswith("WITH"))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + select)
        lines = [row[0] for row in cursor.fetchall()]
        transaction.set_rollback(True)
    return lines, claimed


def scan(args, patient_ids: list[int]) -> dict:
    """Fill the table with `args.rows` messages, then time the claim against its baseline."""
    from django.db.models import Count

    from notifications.models import Notification

    fill_s = fill_table(patient_ids, args.rows, args.due, args.future)
    statuses = dict(Notification.objects.values_list("status").annotate(n=Count("pk")).order_by())
    timings = time_calls({"index": claim(sequential=False)}, args.runs, warmup=5)["index"].ms
    seq_timings = time_calls({"seq": claim(sequential=True)}, max(3, args.runs // 10))["seq"].ms
    plan, claimed = explain_claim()
    indexed, sequential = spread(timings), spread(seq_timings)
    p95, seq_p95 = indexed["p95_ms"], sequential["p95_ms"]
    index_used = any(PARTIAL_INDEX in line for line in plan)
    return {
        "workload": f"claim_due(limit={CLAIM_LIMIT}), {args.rows:,} rows",
        "rows": args.rows,
        "statuses": statuses,
        "fill_seconds": round(fill_s, 1),
        "runs": args.runs,
        "claimed_per_call": claimed,
        **indexed,
        "baseline": "the same claim_due with index scans disabled (sequential scan)",
        "baseline_runs": len(seq_timings),
        "baseline_p50_ms": sequential["p50_ms"],
        "baseline_p95_ms": seq_p95,
        "ratio_p95": round(p95 / seq_p95, 3),
        "target_p95_ms": TARGET_SCAN_P95_MS,
        "partial_index_used": index_used,
        "explain": plan,
        "meets_target": p95 < TARGET_SCAN_P95_MS and index_used,
    }
