"""End to end: a booking through the API, a real Redis, a real `celery worker` and `beat`.

The worker and beat run as subprocesses against the test database (hence a transactional
test) and the Redis of REDIS_URL, on a queue of their own, with a one-second scan. The
confirmations must reach the outbox within seconds of the booking, and a reminder set
to fall due a few seconds after it must reach the outbox after its due time, once.
"""

import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock

import psycopg
import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient
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

from . import conftest
from .conftest import ensure_default_templates, publishing_to, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

APPOINTMENTS = "/api/v1/appointments/"
REMINDER_LEAD = timedelta(seconds=8)  # the reminder falls due this long after booking


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


def zone_where_it_is_late_morning() -> str:
    """A zone whose clock says 11 o'clock now (give or take the minutes). The test runs on
    the real clock and books an hour and a half ahead; a day's hours end at midnight, so in
    Melbourne after 22:30 that booking would fall outside them."""
    offset = (11 - timezone.now().astimezone(UTC).hour + 12) % 24 - 12  # hours, -12 to 11
    return f"Etc/GMT{-offset:+d}" if offset else "UTC"  # Etc/GMT-10 is ten hours ahead


@pytest.fixture
def clinic():
    """A clinic open all day (the test runs on the real clock, at any hour)."""
    cache.clear()  # booking throttles
    ensure_default_templates()
    rules = MessagingSettings.current()
    rules.reminder_offsets_hours = [1]
    rules.quiet_hours_start = rules.quiet_hours_end = clock(0)  # equal: never quiet
    rules.save()
    location = LocationFactory(name="Richmond", time_zone=zone_where_it_is_late_morning())
    RoomFactory(location=location, name="Treatment 1")
    RoomFactory(location=location, name="Treatment 2")
    practitioner = PractitionerFactory(user__first_name="Mia", user__last_name="Myo")
    work_every_day(practitioner, location, start=clock(0), end=clock(23, 59))
    service = ServiceFactory(name="Initial assessment", duration_minutes=30, is_assessment=True)
    patient = PatientFactory(
        first_name="Ari",
        user=UserFactory(email="ari@example.com"),
        email="ari@example.com",
        consent_email=True,
        consent_sms=True,
    )
    reception = UserFactory(email="front@clinic.example", is_staff=True)
    reception.groups.add(Group.objects.get_or_create(name="Reception")[0])
    yield {
        "location": location,
        "practitioner": practitioner,
        "service": service,
        "patient": patient,
        "reception": reception,
    }
    cache.clear()


def outbox(**filters) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(**filters).select_related("notification"))


def test_booking_through_the_api_reaches_the_outbox_on_time_once(clinic, celery_processes):
    celery = celery_processes()
    celery.worker()
    celery.beat()
    zone = clinic["location"].zone
    tomorrow_noon = datetime.combine(
        timezone.now().astimezone(zone).date() + timedelta(days=1), clock(12), tzinfo=zone
    )

    with publishing_to(celery.broker_url, celery.queue):
        # The patient books online (on the grid, beyond the lead time).
        booked_at = time.monotonic()
        response = client_for(clinic["patient"].user).post(
            APPOINTMENTS,
            {
                "service": clinic["service"].pk,
                "practitioner": clinic["practitioner"].pk,
                "start": tomorrow_noon.isoformat(),
            },
            format="json",
        )
        assert response.status_code == 201, response.json()
        online = response.json()["id"]

        confirmations = wait_for(
            lambda: (
                len(outbox(notification__appointment_id=online)) == 2
                and outbox(notification__appointment_id=online)
            ),
            timeout=30,
            what=f"the confirmations in the outbox\n{celery.logs()}",
        )
        confirmation_seconds = time.monotonic() - booked_at
        assert {m.channel for m in confirmations} == {"email", "sms"}
        assert {m.notification.kind for m in confirmations} == {Kind.CONFIRMATION}
        email = next(m for m in confirmations if m.channel == "email")
        assert email.attachments == ["appointment.ics"] and "Ari" in email.body

        # Reception books a session starting an hour and a few seconds from now: with a
        # one-hour reminder offset, the reminder falls due a few seconds after booking.
        start = (timezone.now() + timedelta(hours=1) + REMINDER_LEAD).replace(microsecond=0)
        response = client_for(clinic["reception"]).post(
            APPOINTMENTS,
            {
                "patient": clinic["patient"].pk,
                "service": clinic["service"].pk,
                "practitioner": clinic["practitioner"].pk,
                "start": start.astimezone(zone).isoformat(),
            },
            format="json",
        )
        assert response.status_code == 201, response.json()
        soon = response.json()["id"]
        reminders = Notification.objects.filter(appointment_id=soon, kind=Kind.REMINDER)
        due_at = {n.due_at for n in reminders}
        assert due_at == {start.astimezone(UTC) - timedelta(hours=1)}, due_at
        (due,) = due_at

        # Before its time the reminder stays out of the outbox, while the confirmations
        # of the same booking go through.
        seen_early = []
        while timezone.now() < due - timedelta(seconds=0.5):
            seen_early += outbox(notification__appointment_id=soon, notification__kind="reminder")
            time.sleep(0.2)
        assert seen_early == []
        assert len(outbox(notification__appointment_id=soon, notification__kind="confirmation"))

        sent = wait_for(
            lambda: (
                len(outbox(notification__appointment_id=soon, notification__kind="reminder")) == 2
                and outbox(notification__appointment_id=soon, notification__kind="reminder")
            ),
            timeout=20,
            what=f"the reminders in the outbox\n{celery.logs()}",
        )
        lateness = [(m.created_at - due).total_seconds() for m in sent]
        assert all(0 <= late < 10 for late in lateness), lateness

        # A few more scans change nothing: each message once.
        time.sleep(3)
    assert OutboxMessage.objects.filter(notification__appointment_id=soon).count() == 4
    assert OutboxMessage.objects.count() == 6
    assert (
        OutboxMessage.objects.values("notification").distinct().count()
        == Notification.objects.filter(status=Delivery.SENT).count()
        == 6
    )
    print(
        f"\nconfirmations in the outbox {confirmation_seconds:.2f} s after the booking; "
        f"reminders {', '.join(f'{s:.2f}' for s in lateness)} s after their due time"
    )


def test_the_processes_database_url_reaches_the_test_database(db):
    """The URL the worker and beat get names the test database on the server DATABASE_URL
    names, however that server is reached: the embedded PostgreSQL listens on a unix socket
    given in the URL's query string, which a rebuild from host and port would lose."""
    with psycopg.connect(conftest.test_database_url(), connect_timeout=5) as conn:
        [name] = conn.execute("SELECT current_database()").fetchone()
    assert name == settings.DATABASES["default"]["NAME"]
