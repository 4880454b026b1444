"""`make soak`: half an hour of mixed, realistic traffic against the whole product, watching
for server errors, a p95 that drifts, and processes that grow.

    python tools/devenv.py exec -- python bench/soak.py [--minutes 30] [--users 40]

It runs what production runs — gunicorn (sync workers, DEBUG off), a Celery worker and
beat (messages go to the outbox table) — on the large clinic's database (`clinic_bench`,
seeded by bench/large_clinic.py when missing) and a Redis database of its own (number 12,
emptied first). Load comes from locust in a process of its own (bench/soak_locustfile.py):
--users people — visitors browsing free slots, patients reading, booking, moving and
cancelling, practitioners reading notes and progress, reception searching — each pausing
between steps. It reports, for the first and the last --window minutes: requests, p95,
server errors; and the memory (RSS) of every gunicorn worker and Celery process at the
start and at the end. Targets: 0 server errors (5xx or no answer), web worker RSS below
200 MB at the end. Writes bench/results/soak.json; deletes the bookings it made.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bookings import (
    BENCH_EMAIL_DOMAIN,
    assessed_patients_with_logins,
    delete_bench_bookings,
    token_for,
)
from bench.common import create_database, with_database
from bench.fixtures import SERVICE
from bench.large_clinic import ensure_large_clinic
from bench.load import start_locust
from bench.report import RESULTS, Row, print_table, write
from bench.servers import (
    CeleryBeat,
    CeleryWorker,
    Gunicorn,
    server_environment,
    setup_django_as_server,
    with_redis_db,
    worker_environment,
)
from bench.stats import percentile

ROOT = Path(__file__).resolve().parent.parent
RSS_LIMIT_MB = 200
SOAK_REDIS_DB = 12


def plan(path: Path) -> None:
    """The logins and ids the simulated people use, written for the locust process."""
    from django.contrib.auth.models import Group

    from accounts.models import User
    from accounts.permissions import sync_role_group
    from patients.models import Patient
    from practice.models import Practitioner, Service
    from treatments.models import TreatmentNote

    patients = assessed_patients_with_logins(300)
    practitioners = []
    for practitioner in Practitioner.objects.filter(is_active=True).select_related("user")[:10]:
        treated = list(
            TreatmentNote.objects.filter(author=practitioner)
            .values_list("appointment__patient_id", flat=True)
            .distinct()[:50]
        )
        if treated:
            practitioners.append({"token": token_for(practitioner.user), "patients": treated})
    sync_role_group("Reception")
    receptionist, _ = User.objects.get_or_create(
        email=f"reception@{BENCH_EMAIL_DOMAIN}", defaults={"first_name": "Front", "is_staff": True}
    )
    receptionist.groups.add(Group.objects.get(name="Reception"))
    names = list(Patient.objects.order_by("?").values_list("last_name", flat=True)[:100])
    path.write_text(
        json.dumps(
            {
                "services": list(
                    Service.objects.filter(bookable_online=True).values_list("pk", flat=True)
                ),
                "booking_service": Service.objects.get(name=SERVICE).pk,
                "search_terms": [name[:4] for name in names],
                "logins": {
                    "patient": [{"token": token_for(p.user)} for p in patients],
                    "practitioner": practitioners,
                    "reception": [{"token": token_for(receptionist)}],
                },
            }
        )
    )


def memory(processes: dict[str, int]) -> dict[str, float]:
    """RSS in MB of each named process and its children."""
    import psutil

    sizes = {}
    for name, pid in processes.items():
        try:
            parent = psutil.Process(pid)
        except psutil.NoSuchProcess:
            continue
        for number, process in enumerate([parent, *parent.children(recursive=True)]):
            label = name if number == 0 else f"{name} child {number}"
            with contextlib.suppress(psutil.NoSuchProcess):
                sizes[label] = round(process.memory_info().rss / 2**20, 1)
    return sizes


def summarise(samples: list, began: float, ended: float, window_s: float) -> dict:
    def part(start: float, end: float) -> dict:
        chosen = [s for s in samples if start <= s[0] < end]
        times = [s[2] for s in chosen]
        statuses = Counter(str(s[3]) for s in chosen)
        return {
            "requests": len(chosen),
            "p50_ms": round(percentile(times, 50), 1) if len(times) > 1 else None,
            "p95_ms": round(percentile(times, 95), 1) if len(times) > 1 else None,
            "server_errors": sum(n for s, n in statuses.items() if s == "0" or s[0] == "5"),
            "statuses": dict(sorted(statuses.items())),
        }

    by_name = Counter(s[1] for s in samples)
    return {
        "first": part(began, began + window_s),
        "last": part(ended - window_s, ended + 1),
        "all": part(began, ended + 1),
        "requests_by_endpoint": dict(by_name.most_common()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--users", type=int, default=40, help="simulated people at once")
    parser.add_argument("--window", type=float, default=3.0, help="minutes compared, start/end")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--db-name", default="clinic_bench")
    parser.add_argument("--check", action="store_true", help="exit 1 on a missed target")
    parser.add_argument("--output", type=Path, default=RESULTS / "soak.json")
    args = parser.parse_args(argv)
    if args.window * 2 > args.minutes:
        parser.error("--window must be at most half of --minutes")
    for name in ("DATABASE_URL", "REDIS_URL"):
        if not os.environ.get(name):
            raise SystemExit(f"{name} is not set; run through `python tools/devenv.py exec --`.")
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

    server_url = os.environ["DATABASE_URL"]
    url = with_database(server_url, args.db_name)
    redis_url = with_redis_db(os.environ["REDIS_URL"], SOAK_REDIS_DB)
    env = server_environment(url) | {
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "CELERY_RESULT_BACKEND": redis_url,
        "NOTIFICATIONS_DELIVERY": "outbox",
    }
    create_database(server_url, args.db_name)
    setup_django_as_server(env)
    ensure_large_clinic(server_url, args.db_name)
    import redis
    from django.db import connection

    redis.Redis.from_url(redis_url).flushdb()
    delete_bench_bookings()
    folder = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    plan(folder / "plan.json")
    connection.close()

    server = Gunicorn(env, args.workers, folder / "gunicorn.log")
    worker = CeleryWorker(worker_environment(url, redis_url), 2, folder / "worker.log")
    beat = CeleryBeat(worker_environment(url, redis_url), folder)
    processes = {
        "gunicorn": server.process.pid,
        "celery worker": worker.process.pid,
        "celery beat": beat.process.pid,
    }
    seconds = args.minutes * 60
    samples_path = folder / "samples.json"
    try:
        server.wait_until_ready()
        print(f"Soaking for {args.minutes:g} min with {args.users} people; logs in {folder}")
        locust = start_locust(
            ROOT / "bench" / "soak_locustfile.py",
            server.base_url,
            users=args.users,
            spawn_rate=5,
            seconds=seconds,
            stop_timeout=20,
            env=dict(
                os.environ,
                BENCH_SOAK_PLAN=str(folder / "plan.json"),
                BENCH_OUTPUT=str(samples_path),
            ),
            output=(folder / "locust.log").open("wb"),
        )
        began = time.time()
        time.sleep(min(args.window * 60, seconds / 2))
        memory_start = memory(processes)
        print(f"Memory after {args.window:g} min (MB): {memory_start}", flush=True)
        locust.wait(timeout=seconds + 120)
        ended = time.time()
        memory_end = memory(processes)
        print(f"Memory at the end (MB): {memory_end}", flush=True)
        worker.check()
    finally:
        server.stop()
        worker.stop()
        beat.stop()
        made = delete_bench_bookings()
        print(f"Stopped everything; deleted the {made} bookings the soak made.")

    samples = json.loads(samples_path.read_text())
    figures = summarise(samples, began, ended, args.window * 60)
    web = {k: v for k, v in memory_end.items() if k.startswith("gunicorn child")}
    web_start = {k: v for k, v in memory_start.items() if k.startswith("gunicorn child")}
    first, last = figures["first"], figures["last"]
    rows = [
        Row(
            workload=f"soak {args.minutes:g} min, {args.users} people: server errors",
            figure=f"{figures['all']['server_errors']} of {figures['all']['requests']:,}",
            baseline="-",
            ratio=None,
            target="0",
            passed=figures["all"]["server_errors"] == 0,
        ),
        Row(
            workload=f"soak p95, last vs first {args.window:g} min",
            figure=f"{last['p95_ms']} ms ({last['requests']:,} requests)",
            baseline=f"first: {first['p95_ms']} ms ({first['requests']:,} requests)",
            ratio=round(last["p95_ms"] / first["p95_ms"], 2)
            if first["p95_ms"] and last["p95_ms"]
            else None,
            target="-",
            passed=None,
        ),
        Row(
            workload="soak: largest web worker RSS at the end",
            figure=f"{max(web.values(), default=0):.0f} MB",
            baseline=f"at the start: {max(web_start.values(), default=0):.0f} MB",
            ratio=None,
            target=f"< {RSS_LIMIT_MB} MB",
            passed=bool(web) and max(web.values()) < RSS_LIMIT_MB,
        ),
    ]
    print()
    print_table(rows)
    write(
        args.output,
        "soak: mixed traffic against gunicorn, a Celery worker and beat",
        rows,
        minutes=args.minutes,
        users=args.users,
        gunicorn_workers=args.workers,
        memory_mb={"start": memory_start, "end": memory_end},
        windows=figures,
    )
    return 1 if args.check and any(row.passed is False for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
