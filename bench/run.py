"""`make bench`: every benchmark, each figure beside a baseline measured in the same run, in
one table.

    python tools/devenv.py exec -- python bench/run.py [--only api,messages] [--check] [--quick]

First it makes sure the large clinic is in its database (`clinic_bench` on DATABASE_URL's
server: 3 locations, 20 practitioners, 20,000 patients, about 100,000 past and 5,000 future
appointments, 30,000 treatment notes; seeded once, then reused). Then it runs, each in a
process of its own (Django is set up once per process, on that benchmark's database):

- availability.py  free_slots for 14 days (service call) beside a raw SQL fetch;
- api.py           the HTTP API under gunicorn, load from locust: availability, booking
                   beside pgbench's INSERTs and a trivial POST, reschedule and cancel,
                   contention, patient and note lists beside a trivial GET;
- front_desk.py    the admin's day grid of the whole clinic on its busiest day beside the
                   admin's index, and its queries beside a quiet day's;
- messages.py      the reminder drain beside a no-op Celery task, the scan at 1M rows
                   (its own small database: the message tables are what it measures);
- scaling.py       availability and booking at 10k, 100k and 1M appointments;
- waitlist_fill.py a month of the demo clinic's cancellations replayed through the
                   waitlist's offers: the share of freed times filled and the median time
                   to fill, beside the same month with no waitlist (its own database).

It prints one table (workload, figure, baseline, ratio, target, result) and writes it with
the machine's description to bench/results/summary.json; each benchmark's own JSON, with
every detail, is beside it. `--check` exits 1 when a target is missed or a benchmark fails.
`--quick` runs every benchmark briefly (few calls, short phases, scaling at 10k and 100k
only): a check that all of them still run and report, in a few minutes; its figures are
noisy and its targets are not to be trusted.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import RESULTS, Row, machine, print_table, read_rows

BENCH = Path(__file__).resolve().parent
LARGE_CLINIC_DB = "clinic_bench"
# What --quick adds to each benchmark's command line.
QUICK = {
    "availability": "--runs 10 --warmup 2",
    "api": "--requests 60 --seconds 3 --contested-slots 20 --contenders 5",
    "messages": "--messages 1000 --rows 50000 --due 1000 --future 5000 --runs 10 --budget 30",
    "scaling": "--sizes 10k,100k --runs 20 --bookings 20 --warmup 3",
    "front_desk": "--runs 5 --warmup 1",
}


def benchmarks(database: str, *, quick: bool = False) -> dict[str, list[str]]:
    """Each benchmark's command line, in the order they run."""
    plan = {
        "seed": ["large_clinic.py", "--db-name", database],
        "availability": ["availability.py", "--db-name", database],
        "api": ["api.py", "--db-name", database],
        "front_desk": ["front_desk.py", "--db-name", database],
        "messages": ["messages.py"],
        "scaling": ["scaling.py"],
        "waitlist": ["waitlist_fill.py"],
    }
    if quick:
        for name, arguments in QUICK.items():
            plan[name] += arguments.split()
    return plan


def run_one(name: str, command: list[str]) -> tuple[int, float]:
    script, *arguments = command
    output = RESULTS / f"{Path(script).stem}.json"
    if name != "seed":
        arguments += ["--output", str(output)]
    print(f"\n=== {name}: python bench/{script} {' '.join(arguments)}", flush=True)
    began = time.perf_counter()
    finished = subprocess.run([sys.executable, str(BENCH / script), *arguments])
    return finished.returncode, time.perf_counter() - began


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--only",
        help="comma-separated: seed,availability,api,front_desk,messages,scaling,waitlist",
    )
    parser.add_argument("--db-name", default=LARGE_CLINIC_DB, help="the large clinic's database")
    parser.add_argument("--check", action="store_true", help="exit 1 on a missed target")
    parser.add_argument("--quick", action="store_true", help="every benchmark, briefly")
    args = parser.parse_args(argv)
    plan = benchmarks(args.db_name, quick=args.quick)
    chosen = args.only.split(",") if args.only else list(plan)
    if unknown := set(chosen) - set(plan):
        parser.error(f"unknown benchmarks: {', '.join(sorted(unknown))}")

    rows: list[Row] = []
    outcomes = {}
    for name in chosen:
        status, seconds = run_one(name, plan[name])
        outcomes[name] = {"exit_status": status, "seconds": round(seconds, 1)}
        if name == "seed":
            continue
        output = RESULTS / f"{Path(plan[name][0]).stem}.json"
        if status == 0 and output.exists():
            rows += read_rows(output)
        else:
            rows.append(Row(name, "did not finish", "-", None, "-", False))

    print("\n=== make bench: every figure beside its same-run baseline\n")
    print_table(rows)
    summary = {
        **machine(),
        "quick": args.quick,
        "benchmarks": outcomes,
        "rows": [asdict(row) for row in rows],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"\nWrote {RESULTS / 'summary.json'}; each benchmark's details are beside it.")
    failed = any(row.passed is False for row in rows)
    return 1 if args.check and failed else 0


if __name__ == "__main__":
    sys.exit(main())
