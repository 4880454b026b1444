"""Benchmark reception's day grid: the whole clinic's busiest day in the admin, in process.

    python tools/devenv.py exec -- python bench/front_desk.py [--runs 30]

On the large clinic's database (`clinic_bench`, or --db-name, seeded by bench/large_clinic.py
when missing), a receptionist signed in through Django's test client asks for the day grid
of every location on the future day with the most appointments, and for the admin's index
(a trivial admin page: the same middleware, session, user and permissions, no diary) in
turns. It reports the grid's server time beside the index's, and the grid's SQL statements,
which must not depend on the day (the busiest day against a quiet one). It writes
bench/results/front_desk.json.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.large_clinic import ensure_large_clinic
from bench.load import time_calls, timed
from bench.report import RESULTS, Row, print_table, write
from bench.stats import spread

TARGET_P95_MS = 150.0
RECEPTIONIST = "bench-reception@clinic.example"


def busiest_and_quietest_days() -> tuple[date, date, int]:
    """The future local dates with the most and the fewest appointments, and the most."""
    from django.db.models import Count
    from django.db.models.functions import TruncDate
    from django.utils import timezone

    from appointments.models import Appointment

    per_day = list(
        Appointment.objects.filter(start__gte=timezone.now())
        .annotate(day=TruncDate("start", tzinfo=timezone.get_default_timezone()))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by("-n", "day")
        .values_list("day", "n")
    )
    return per_day[0][0], per_day[-1][0], per_day[0][1]


def signed_in_receptionist():
    from django.test import Client

    from accounts.models import User
    from accounts.permissions import sync_role_group

    user, _ = User.objects.get_or_create(
        email=RECEPTIONIST, defaults={"first_name": "Bench", "is_staff": True}
    )
    user.groups.add(sync_role_group("Reception"))
    client = Client()
    client.force_login(user)
    return client


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=30, help="timed requests of each page")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests before them")
    parser.add_argument("--db-name", default="clinic_bench", help="the large clinic's database")
    parser.add_argument("--check", action="store_true", help="exit 1 if the target is missed")
    parser.add_argument("--output", type=Path, default=RESULTS / "front_desk.json")
    args = parser.parse_args(argv)
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit("DATABASE_URL is not set; run through `python tools/devenv.py exec --`.")
    # Production settings answer only the hosts they are told; the test client is one.
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    ensure_large_clinic(os.environ["DATABASE_URL"], args.db_name)

    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, override_settings
    from django.urls import reverse

    busiest, quietest, appointments = busiest_and_quietest_days()
    client = signed_in_receptionist()
    # Production settings name static files from collectstatic's manifest, which the bench
    # does not build; the plain storage gives the same pages.
    plain_static = override_settings(
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    )
    plain_static.enable()
    grid = reverse("admin:appointments_appointment_day")

    def get(path: str, **query) -> None:
        response = client.get(path, query, secure=True)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")

    def statements(day: date) -> int:
        with CaptureQueriesContext(connection) as captured:
            get(grid, date=day.isoformat(), location="all")
        return len(captured)

    busy_statements, quiet_statements = statements(busiest), statements(quietest)
    timings = time_calls(
        {
            "grid": timed(lambda: get(grid, date=busiest.isoformat(), location="all")),
            "index": timed(lambda: get(reverse("admin:index"))),
        },
        args.runs,
        warmup=args.warmup,
    )
    measured, baseline = spread(timings["grid"].ms), spread(timings["index"].ms)
    passed = measured["p95_ms"] <= TARGET_P95_MS and busy_statements == quiet_statements
    rows = [
        Row(
            workload=(
                f"admin day grid, whole clinic, busiest day ({busiest}: {appointments} "
                "appointments), in process"
            ),
            figure=(
                f"p50 {measured['p50_ms']:.0f} / p95 {measured['p95_ms']:.0f} ms, "
                f"{busy_statements} queries (quiet day {quiet_statements})"
            ),
            baseline=f"admin index p95 {baseline['p95_ms']:.0f} ms",
            ratio=round(measured["p95_ms"] / baseline["p95_ms"], 2),
            target=f"p95 <= {TARGET_P95_MS:.0f} ms, queries as on a quiet day",
            passed=passed,
        )
    ]
    print_table(rows)
    write(
        args.output,
        "diary.admin.day_view",
        rows,
        database=args.db_name,
        busiest_day=busiest.isoformat(),
        quietest_day=quietest.isoformat(),
        appointments=appointments,
        statements={"busiest": busy_statements, "quietest": quiet_statements},
        grid=measured,
        index=baseline,
    )
    return 1 if args.check and not passed else 0


if __name__ == "__main__":
    sys.exit(main())
