"""End to end with a real Redis, `celery worker` and `beat` (the processes of
tests/notifications/conftest.py): reception cancels a booking through the API, the worker
offers the freed time to the patient waiting for it, the offer reaches the outbox within a
beat interval, and accepting it through the link books the time."""

import importlib
import re
import time
from datetime import datetime, timedelta
from datetime import time as clock

import psycopg
import pytest
from django.apps import apps
from django.core.cache import cache
from django.utils import timezone

from appointments.models import SlotHold, Status
from appointments.services import book_appointment
from notifications.models import MessagingSettings, OutboxMessage
from tests.factories import LocationFactory, PatientFactory, RoomFactory, ServiceFactory
from tests.fixtures.api_clients import client_for, staff_user
from tests.fixtures.clinic import work_every_day
from tests.notifications.conftest import (  # noqa: F401  (the fixtures, used by name)
    celery_processes,
    ensure_default_templates,
    publishing_to,
    run_dir,
    wait_for,
)
from tests.notifications.conftest import (
    test_database_url as database_url,
)
from tests.notifications.test_worker_e2e import zone_where_it_is_late_morning
from waitlist.models import FreedTime, OfferStatus, WaitlistOffer
from waitlist.services import Wish, join_waitlist
from waitlist.tasks import offer_freed_time

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _frozen():
    """The real clock: the worker and beat run on it (overrides the package's frozen one)."""


@pytest.fixture
def clinic():
    cache.clear()
    ensure_default_templates()
    importlib.import_module("notifications.migrations.0010_offer_templates").create_defaults(
        apps, None
    )
    rules = MessagingSettings.current()
    rules.quiet_hours_start = rules.quiet_hours_end = clock(0)  # equal: never quiet
    rules.save()
    location = LocationFactory(name="Richmond", time_zone=zone_where_it_is_late_morning())
    RoomFactory(location=location, name="Treatment 1")
    from tests.factories import PractitionerFactory

    practitioner = PractitionerFactory(user__first_name="Mia", user__last_name="Myo")
    work_every_day(practitioner, location, start=clock(0), end=clock(23, 59))
    # An assessment: the new-patient rule asks nothing before it.
    service = ServiceFactory(name="Initial assessment", duration_minutes=30, is_assessment=True)
    yield {"location": location, "practitioner": practitioner, "service": service}
    cache.clear()


def offers_in_the_outbox():
    return OutboxMessage.objects.filter(notification__reason_key__startswith="waitlist_offer:")


def the_offer_sent(celery) -> OutboxMessage:
    return wait_for(
        lambda: offers_in_the_outbox().first(),
        timeout=30,
        what=f"the offer in the outbox\n{celery.logs()}",
    )


@pytest.fixture
def scene(clinic):
    """Bea waits for the service; Dee's booking tomorrow at 12:00 is about to be cancelled."""
    zone = clinic["location"].zone
    start = datetime.combine(
        timezone.now().astimezone(zone).date() + timedelta(days=1), clock(12), tzinfo=zone
    )
    reception = staff_user("front@clinic.example", "Reception")
    bea = PatientFactory(first_name="Bea", email="bea@example.com", consent_email=True)
    join_waitlist(
        patient=bea,
        service=clinic["service"],
        by=reception,
        wish=Wish(latest_date=start.date() + timedelta(days=7)),
    )
    booked = book_appointment(
        patient=PatientFactory(first_name="Dee"),
        service=clinic["service"],
        practitioner=clinic["practitioner"],
        start=start,
    )
    return {"reception": reception, "bea": bea, "booked": booked}


def test_a_cancellation_is_offered_through_the_worker_and_accepting_books_it(
    scene,
    celery_processes,  # noqa: F811
):
    celery = celery_processes()
    celery.worker()
    celery.beat()
    reception, bea, booked = scene["reception"], scene["bea"], scene["booked"]
    start = booked.start

    with publishing_to(celery.broker_url, celery.queue):
        cancelled_at = time.monotonic()
        response = client_for(reception).post(
            f"/api/v1/appointments/{booked.pk}/cancel/", {"reason": "Called in sick"}
        )
        assert response.status_code == 200, response.json()

        sent = the_offer_sent(celery)
        seconds = time.monotonic() - cancelled_at

    assert sent.recipient == "bea@example.com"
    token = re.search(r"#/offer/(\S+)", sent.body).group(1)
    accepted = client_for().post(f"/api/v1/waitlist/offers/{token}/accept/")
    assert accepted.status_code == 200, accepted.json()
    assert bea.appointments.get(start=start).status == Status.BOOKED
    assert WaitlistOffer.objects.get().status == OfferStatus.ACCEPTED
    assert seconds < 30
    print(f"\nthe offer reached the outbox {seconds:.2f} s after the cancellation")


def test_a_worker_killed_mid_offer_leaves_no_hold_and_the_next_worker_offers_once(
    scene,
    celery_processes,  # noqa: F811
):
    """SIGKILL while the worker's transaction holds the time but has not written the offer:
    PostgreSQL rolls the transaction back with the dead connection, so the hold goes with
    it and the freed time waits, unprocessed, for the next worker, which offers it once."""
    celery = celery_processes()
    worker = celery.worker()
    reception, bea, booked = scene["reception"], scene["bea"], scene["booked"]
    start = booked.start

    with (
        psycopg.connect(database_url()) as blocker,
        # Apart from the blocker: a transaction sees pg_stat_activity as it first read it.
        psycopg.connect(database_url(), autocommit=True) as watcher,
        publishing_to(celery.broker_url, celery.queue),
    ):
        # Offers cannot be written while this lock is held: the worker stops right there,
        # with the hold made in its open transaction.
        blocker.execute(f'LOCK TABLE "{WaitlistOffer._meta.db_table}" IN EXCLUSIVE MODE')
        response = client_for(reception).post(
            f"/api/v1/appointments/{booked.pk}/cancel/", {"reason": "Called in sick"}
        )
        assert response.status_code == 200, response.json()
        stuck = wait_for(
            lambda: watcher.execute(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE %s",
                [f'INSERT INTO "{WaitlistOffer._meta.db_table}"%'],
            ).fetchone(),
            timeout=30,
            what=f"the worker waiting to write the offer\n{celery.logs()}",
        )[0]
        holding = watcher.execute(
            "SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE l.pid = %s AND c.relname = %s AND l.mode = 'RowExclusiveLock'",
            [stuck, SlotHold._meta.db_table],
        ).fetchone()
        assert holding, "the worker had not written the hold when it was killed"

        celery.kill_worker(worker)
        blocker.rollback()  # the lock: PostgreSQL may now end the dead worker's session
        wait_for(
            lambda: (
                not watcher.execute(
                    "SELECT 1 FROM pg_stat_activity WHERE pid = %s", [stuck]
                ).fetchone()
            ),
            timeout=30,
            what="PostgreSQL ending the dead worker's session",
        )

        assert not SlotHold.objects.exists()
        assert not WaitlistOffer.objects.exists()
        assert FreedTime.objects.get().processed_at is None

        celery.worker()
        offer_freed_time.delay()  # beat's next tick
        sent = the_offer_sent(celery)
        offer_freed_time.delay()  # and one more: nothing new
        time.sleep(2)

    assert sent.recipient == "bea@example.com"
    assert WaitlistOffer.objects.get().entry.patient == bea
    assert SlotHold.objects.get().start == start
    assert offers_in_the_outbox().count() == 1
