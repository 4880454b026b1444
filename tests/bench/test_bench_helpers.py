"""The pieces every benchmark shares: one percentile, one in-process load runner, and the
bench clinic's own catalogue, which must stay within the product's choices."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import timezone

from bench import fixtures
from bench.load import time_calls
from bench.stats import percentile, spread
from practice.models import Discipline, RoomKind

ROOT = Path(__file__).resolve().parents[2]


def test_percentile_is_exact_and_inclusive():
    samples = [float(n) for n in range(1, 21)]
    assert percentile(samples, 50) == 10.5
    assert percentile(samples, 95) == pytest.approx(19.05)
    assert percentile([7.0], 95) == 7.0
    assert spread([1.0, 2.0, 3.0]) == {"p50_ms": 2.0, "p95_ms": 2.9, "max_ms": 3.0}
    with pytest.raises(ValueError):
        percentile([], 50)


def test_time_calls_takes_turns_and_counts_refusals():
    order = []

    def call(name, ms):
        def run():
            order.append(name)
            return ms

        return run

    timings = time_calls({"a": call("a", 1.0), "b": call("b", None)}, 3, warmup=1)
    assert order == ["a", "b"] * 4
    assert timings["a"].ms == [1.0, 1.0, 1.0] and timings["a"].refused == 0
    assert timings["b"].ms == [] and timings["b"].refused == 3


def test_the_bench_catalogue_uses_the_products_choices():
    kinds, disciplines = set(RoomKind.values), set(Discipline.values)
    for spec in fixtures.SERVICES.values():
        assert spec.room_kind in kinds
        assert set(spec.disciplines) <= disciplines
    for *_, practised in fixtures.PRACTITIONERS:
        assert set(practised) <= disciplines
        assert tuple(practised) in fixtures.SERVICE_MIX
    assert fixtures.SERVICES[fixtures.SMM_45].name == fixtures.SERVICE


def test_devenv_runs_as_a_script_from_a_checkout():
    finished = subprocess.run(
        [sys.executable, "tools/devenv.py", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    for command in ("run", "test", "exec", "env"):
        assert command in finished.stdout


@pytest.fixture
def small_busy_clinic(db):
    from bench import busy_clinic

    scale = busy_clinic.Scale(locations=1, patients=400, past_days=3, future_days=14)
    return busy_clinic.seed(timezone.localdate(), scale)


def test_a_small_busy_clinic_seeds_with_every_column_the_models_have(small_busy_clinic):
    """The bench's seed writes rows by COPY: a column the models gained since (with a
    default) must not break it — `make bench` once failed on a new NOT NULL column."""
    from appointments.models import Appointment

    assert small_busy_clinic["appointments"] == Appointment.objects.count() > 0
    assert set(Appointment.objects.values_list("clash_decision", flat=True)) == {""}


def test_the_bench_patients_may_book_online(small_busy_clinic, fresh_throttles):
    """The API bench books as these patients: each must pass every check an online booking
    meets (it once stopped at the first, `email_unverified`)."""
    from bench.api import SERVICE
    from bench.bookings import assessed_patients_with_logins, plan_bookings
    from practice.models import Service
    from tests.fixtures.api_clients import client_for

    patients = assessed_patients_with_logins(2)
    service = Service.objects.get(name=SERVICE)
    for booking in plan_bookings(service, patients, 2):
        patient = next(p for p in patients if p.pk == booking.patient_id)
        response = client_for(patient.user).post("/api/v1/appointments/", booking.body)
        assert response.status_code == 201, response.json()


@pytest.fixture
def committed_small_clinic(transactional_db):
    """As `small_busy_clinic`, committed: pgbench writes from a connection of its own."""
    from bench import busy_clinic

    scale = busy_clinic.Scale(locations=1, patients=400, past_days=1, future_days=2)
    return busy_clinic.seed(timezone.localdate(), scale)


def test_the_pgbench_booking_script_writes_into_the_current_schema(committed_small_clinic):
    """pgbench's INSERTs (the booking bench's baseline) name their columns: one the models
    gained since without a database default would abort every client, as twice before."""
    from django.db import connection
    from psycopg.conninfo import make_conninfo

    from appointments.models import Appointment
    from bench import pgbench_booking
    from bench.api import SERVICE
    from notifications.models import Notification

    database = connection.settings_dict
    conninfo = make_conninfo(
        dbname=database["NAME"],
        user=database["USER"],
        password=database["PASSWORD"] or None,
        host=database["HOST"] or None,
        port=database["PORT"] or None,
    )
    pgbench_booking.prepare_slots(SERVICE, 4)
    try:
        figures = pgbench_booking.run(conninfo, clients=2, seconds=0, transactions=2)
        written = Appointment.objects.filter(note=pgbench_booking.NOTE)
        assert figures["appointments_written"] == written.count() == 4
        assert Notification.objects.filter(appointment__in=written).count() == 12
    finally:
        pgbench_booking.cleanup()


def test_the_messages_bench_empties_every_message_table(db):
    """Its TRUNCATE must name every table that refers to a message (replies do)."""
    from bench.messages_data import empty_message_tables
    from notifications.models import Notification

    empty_message_tables()

    assert not Notification.objects.exists()
