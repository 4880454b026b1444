"""The large clinic of the benchmarks: 3 locations, 20 practitioners, 20,000 patients, about
100,000 past and 5,000 coming appointments, and 30,000 signed treatment notes.

    python tools/devenv.py exec -- python bench/large_clinic.py [--db-name NAME] [--reseed]

or, from a benchmark, `ensure_large_clinic(server_url, db_name)`. The database is created
and migrated if missing and seeded once; later calls reuse it while it holds this clinic,
seeded no more than MAX_AGE_DAYS ago (the diary ahead is laid out from the day of the
seed). Anything else in it (another clinic, an older seed) is dropped and seeded again.

The diary is the busy clinic's (bench/busy_clinic.py) at its LARGE scale. The notes are
bench/notes.py's: the SOAP notes of the latest completed sessions, by their practitioner,
with an NMPT session's exercise log; each signed note's pain score joins the patient's
outcome series, and an Oswestry Disability Index is taken about every four weeks.
Everything goes in by COPY in one transaction.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script, bench/ is on the path but not the project
    sys.path.insert(0, str(ROOT))

from bench.common import create_database, setup_django, with_database  # noqa: E402

DEFAULT_DB_NAME = "clinic_bench"
MAX_AGE_DAYS = 7
NOTES = 30_000


def ensure_large_clinic(
    server_url: str, db_name: str = DEFAULT_DB_NAME, *, reseed: bool = False
) -> dict[str, Any]:
    """Make `db_name` on the server of `server_url` hold the large clinic, seeding it if
    needed, and set Django up on it (or check that it already is). Return what it holds,
    whether it was seeded now and the seconds this took."""
    began = time.perf_counter()
    url = with_database(server_url, db_name)
    if reseed:
        _close_django_connections()
    if create_database(server_url, db_name, drop_first=reseed):
        print(f"Created database {db_name}.")
    setup_django(url)

    from django.db import connection, transaction
    from django.utils import timezone

    from bench import busy_clinic
    from bench.notes import seed_notes
    from practice.models import Location

    today = timezone.localdate()
    why_not = _why_not_reusable(today)
    if why_not and Location.objects.exists():
        print(f"Seeding {db_name} again: {why_not}.")
        _close_django_connections()
        create_database(server_url, db_name, drop_first=True)
        setup_django(url)
    if why_not:
        print(f"Seeding the large clinic into {db_name}…")
        with transaction.atomic():
            busy_clinic.seed(today, busy_clinic.LARGE)
            seed_notes(NOTES)
        with connection.cursor() as cursor:
            # Settle the new rows (hint bits, visibility map, statistics) now rather than
            # under an autovacuum while a benchmark runs.
            cursor.execute("VACUUM (ANALYZE)")
    return {
        "database": db_name,
        "seeded": bool(why_not),
        "seconds": round(time.perf_counter() - began, 1),
        **large_clinic_counts(),
    }


def _close_django_connections() -> None:
    """Before the database is dropped, so that Django reconnects to the new one rather than
    finding its connections cut by DROP DATABASE ... WITH (FORCE)."""
    from django.apps import apps

    if apps.ready:
        from django.db import connections

        connections.close_all()


def _why_not_reusable(today: date) -> str | None:
    from bench import busy_clinic
    from treatments.models import TreatmentNote

    seeding = busy_clinic.seeding()
    if seeding is None:
        return "it holds no benchmark clinic"
    if seeding.scale != busy_clinic.LARGE:
        return f"it holds another clinic ({seeding.scale})"
    if (today - seeding.seeded_on).days > MAX_AGE_DAYS:
        return f"it was seeded on {seeding.seeded_on}, over {MAX_AGE_DAYS} days ago"
    if TreatmentNote.objects.count() != NOTES:
        return "it holds another number of treatment notes"
    return None


def large_clinic_counts() -> dict[str, Any]:
    from django.utils import timezone

    from appointments.models import Appointment
    from bench import busy_clinic
    from patients.models import Patient
    from practice.models import Location, Practitioner
    from treatments.models import ExerciseEntry, OutcomeMeasure, TreatmentNote

    now = timezone.now()
    seeding = busy_clinic.seeding()
    return {
        "seeded_on": str(seeding.seeded_on) if seeding else None,
        "locations": Location.objects.count(),
        "practitioners": Practitioner.objects.count(),
        "patients": Patient.objects.count(),
        "past_appointments": Appointment.objects.filter(start__lt=now).count(),
        "future_appointments": Appointment.objects.filter(start__gte=now).count(),
        "treatment_notes": TreatmentNote.objects.count(),
        "signed_treatment_notes": TreatmentNote.objects.filter(signed_at__isnull=False).count(),
        "exercise_entries": ExerciseEntry.objects.count(),
        "outcome_measures": OutcomeMeasure.objects.count(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db-name", default=DEFAULT_DB_NAME, help="the benchmark's database")
    parser.add_argument("--reseed", action="store_true", help="drop the database, seed again")
    args = parser.parse_args(argv)
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit("DATABASE_URL is not set; run through `python tools/devenv.py exec --`.")
    counts = ensure_large_clinic(os.environ["DATABASE_URL"], args.db_name, reseed=args.reseed)
    width = max(len(what) for what in counts)
    for what, value in counts.items():
        print(f"{what.replace('_', ' '):<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
