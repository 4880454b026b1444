"""Faults: a worker killed mid-run, and Redis gone during a scan.

Real `celery worker` and `beat` subprocesses against the test database (transactional
tests). Each message must reach the outbox exactly once: 0 lost, 0 duplicates. The
OneToOne from OutboxMessage to Notification would refuse a duplicate outright, so "once"
is also checked as "every row sent and one outbox row per notification".
"""

import time
from datetime import time as clock
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from notifications.models import Delivery, Kind, MessagingSettings, Notification, OutboxMessage
from tests.factories import (
    LocationFactory,
    PatientFactory,
    PractitionerFactory,
    RoomFactory,
    ServiceFactory,
    UserFactory,
)
from tests.fixtures.clinic import work_every_day

from .conftest import ensure_default_templates, publishing_to, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

MESSAGES = 500
KILLS = 3


@pytest.fixture
def never_quiet():
    ensure_default_templates()
    rules = MessagingSettings.current()
    rules.quiet_hours_start = rules.quiet_hours_end = clock(0)  # equal: never quiet
    rules.reminder_offsets_hours = [1]
    rules.save()


def due_recalls(count: int, tag: str) -> list[int]:
    """`count` recalls already due, to consenting patients (one channel each)."""
    patients = PatientFactory.create_batch(count, consent_email=True, consent_sms=False)
    past = timezone.now() - timedelta(minutes=5)
    rows = Notification.objects.bulk_create(
        Notification(
            kind=Kind.RECALL,
            channel="email",
            patient=patient,
            reason_key=f"patient:{patient.pk}:recall:{tag}:email",
            due_at=past,
        )
        for patient in patients
    )
    return [row.pk for row in rows]


def assert_each_sent_once(ids: list[int]) -> None:
    rows = Notification.objects.filter(pk__in=ids)
    statuses = dict(rows.values_list("status").annotate(n=Count("pk")))
    assert statuses == {Delivery.SENT: len(ids)}, statuses
    outbox = OutboxMessage.objects.filter(notification_id__in=ids)
    assert outbox.count() == len(ids)
    assert outbox.values("notification").distinct().count() == len(ids)
    doubled = (
        OutboxMessage.objects.values("recipient", "notification__reason_key")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    assert list(doubled) == []


def sent(ids) -> int:
    return OutboxMessage.objects.filter(notification_id__in=ids).count()


@pytest.fixture
def slow_outbox(transactional_db):
    """Each message written to the outbox takes 10 ms more (a trigger in the test database,
    dropped after): 500 take 5 s at least, so a kill after the first few tens lands mid-run
    even when this process, on a busy machine, polls the progress late."""
    table = OutboxMessage._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_slow_outbox() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN PERFORM pg_sleep(0.01); RETURN NEW; END $$"
        )
        cursor.execute(
            f'CREATE TRIGGER test_slow_outbox BEFORE INSERT ON "{table}" '
            "FOR EACH ROW EXECUTE FUNCTION test_slow_outbox()"
        )
    yield
    with connection.cursor() as cursor:
        cursor.execute(f'DROP TRIGGER test_slow_outbox ON "{table}"')
        cursor.execute("DROP FUNCTION test_slow_outbox()")


def test_500_due_messages_survive_a_worker_killed_three_times(
    never_quiet, slow_outbox, celery_processes
):
    ids = due_recalls(MESSAGES, "kill")
    celery = celery_processes(stale_seconds=3)
    started = time.monotonic()
    worker = celery.worker()
    celery.beat()

    progress = []
    for _ in range(KILLS):
        # Let it get some way in, then pull the plug mid-run and start a new one.
        floor = sent(ids)
        wait_for(
            lambda floor=floor: sent(ids) >= min(floor + 40, MESSAGES - 1),
            timeout=30,
            every=0.05,
            what=f"progress before a kill\n{celery.logs()}",
        )
        celery.kill_worker(worker)
        progress.append(sent(ids))
        worker = celery.worker()

    wait_for(
        lambda: (
            sent(ids) == MESSAGES
            and not Notification.objects.filter(pk__in=ids).exclude(status=Delivery.SENT).exists()
        ),
        timeout=60,
        what=f"all {MESSAGES} sent\n{celery.logs()}",
    )
    drained = time.monotonic() - started
    assert all(p < MESSAGES for p in progress), f"the kills came too late: {progress}"
    time.sleep(2)  # later scans and redelivered tasks must not add anything
    assert_each_sent_once(ids)
    attempts = dict(
        Notification.objects.filter(pk__in=ids).values_list("attempts").annotate(n=Count("pk"))
    )
    print(
        f"\n{MESSAGES} sent once each in {drained:.1f} s; worker SIGKILLed at "
        f"{progress} sent; attempts per message {attempts}"
    )


@pytest.fixture
def bookable():
    cache.clear()
    location = LocationFactory(name="Richmond")
    RoomFactory(location=location, name="Treatment 1")
    practitioner = PractitionerFactory()
    work_every_day(practitioner, location, start=clock(0), end=clock(23, 59))
    service = ServiceFactory(name="Initial assessment", duration_minutes=30, is_assessment=True)
    patient = PatientFactory(
        user=UserFactory(email="ari@example.com"), consent_email=True, consent_sms=True
    )
    yield location, practitioner, service, patient
    cache.clear()


def book(location, practitioner, service, patient, days: int):
    """The patient books online, through the whole Django stack in this process."""
    zone = location.zone
    start = timezone.datetime.combine(
        timezone.now().astimezone(zone).date() + timedelta(days=days), clock(12), tzinfo=zone
    )
    client = Client(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(patient.user)}")
    began = time.monotonic()
    response = client.post(
        "/api/v1/appointments/",
        {"service": service.pk, "practitioner": practitioner.pk, "start": start.isoformat()},
        content_type="application/json",
    )
    return response, time.monotonic() - began


def test_redis_down_during_a_scan_loses_nothing_and_does_not_hold_up_bookings(
    never_quiet, bookable, redis_server, celery_processes
):
    celery = celery_processes(redis_server.url, stale_seconds=3)
    celery.worker()
    celery.beat()
    backlog = due_recalls(200, "outage")

    with publishing_to(redis_server.url, celery.queue):
        # Scans are under way: some recalls go out, then Redis stops mid-drain.
        wait_for(lambda: sent(backlog) >= 10, 30, 0.05, f"first sends\n{celery.logs()}")
        redis_server.stop()
        down_at = time.monotonic()
        at_outage = sent(backlog)

        response, seconds = book(*bookable, days=1)
        assert response.status_code == 201, response.content
        assert seconds < 3, f"a booking took {seconds:.2f} s with Redis down"
        appointment = response.json()["id"]
        created = Notification.objects.filter(appointment_id=appointment)
        assert created.filter(kind=Kind.CONFIRMATION).count() == 2
        assert created.filter(kind=Kind.REMINDER).count() == 2

        more = due_recalls(50, "during-outage")
        time.sleep(max(0.0, 6 - (time.monotonic() - down_at)))  # a few scans' worth
        during = sent(backlog + more)
        redis_server.start()  # empty: whatever the broker held is gone
        outage = time.monotonic() - down_at

        expected = [
            *backlog,
            *more,
            *created.filter(kind=Kind.CONFIRMATION).values_list("pk", flat=True),
        ]
        wait_for(
            lambda: (
                sent(expected) == len(expected)
                and not Notification.objects.filter(pk__in=expected)
                .exclude(status=Delivery.SENT)
                .exists()
            ),
            timeout=60,
            what=f"the backlog drained\n{celery.logs()}",
        )
        drained = time.monotonic() - down_at - outage
        time.sleep(2)
    assert_each_sent_once(expected)
    assert (
        Notification.objects.filter(appointment_id=appointment, kind=Kind.REMINDER)
        .exclude(status=Delivery.PENDING)
        .count()
        == 0
    )
    print(
        f"\nbooking with Redis down: {seconds:.3f} s; {at_outage} of 200 sent when Redis "
        f"stopped, {during} while it was down ({outage:.1f} s); the {len(expected)} messages "
        f"all sent once {drained:.1f} s after it came back"
    )


def test_a_booking_does_not_wait_three_seconds_on_a_dead_broker(
    never_quiet, bookable, redis_server
):
    redis_server.stop()
    with publishing_to(redis_server.url, "clinic-test-nobody"):
        response, seconds = book(*bookable, days=1)
    assert response.status_code == 201, response.content
    assert Notification.objects.filter(appointment_id=response.json()["id"]).count() == 4
    assert seconds < 3, f"a booking took {seconds:.2f} s with Redis down"
