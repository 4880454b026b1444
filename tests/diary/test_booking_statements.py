"""What the booking path costs the database, statement by statement: an online booking with
its messages is at most ten statements, a move or a cancellation about as many.

Transactional tests, so that each request's transaction is a real one and not a savepoint
inside the test's own. The budgets count the statements that do the work: BEGIN and COMMIT,
which every change has, are left out of them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments.models import Appointment, Status
from notifications.models import MessagingSettings, Notification
from practice.models import BookingRules

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("frozen_now", "fresh_throttles"),
]

APPOINTMENTS = "/api/v1/appointments/"
# Thursday of the fixtures' week, Melbourne time: inside the online rules.
AT_TEN = "2027-03-25T10:00:00+11:00"
AT_ONE = "2027-03-25T13:00:00+11:00"

BOOKING_STATEMENTS = 10
WITH_IDEMPOTENCY_KEY = BOOKING_STATEMENTS + 4  # the key's insert, its answer, a savepoint
# A move and a cancellation also note the time they free, for the waitlist (one INSERT in
# the same transaction: `waitlist.receivers`).
MOVE_STATEMENTS = 12
CANCEL_STATEMENTS = 10


@pytest.fixture
def consenting_patient(assessed_patient):
    """Messages by email and SMS: the booking writes its confirmation and reminders. The
    clinic's settings rows exist, as the migrations make them (a transactional test's
    flush removed them)."""
    BookingRules.current()
    MessagingSettings.current()
    assessed_patient.consent_email = assessed_patient.consent_sms = True
    assessed_patient.save()
    return assessed_patient


def statements(request):
    with CaptureQueriesContext(connection) as captured:
        response = request()
    sql = [query["sql"] for query in captured.captured_queries]
    assert sql.count("BEGIN") <= 1 and sql.count("COMMIT") <= 1
    return response, [statement for statement in sql if statement not in ("BEGIN", "COMMIT")]


def book(client, myotherapy, myotherapist, start=AT_TEN, location=None, **headers):
    body = {"service": myotherapy.pk, "practitioner": myotherapist.pk, "start": start}
    if location is not None:
        body["location"] = location
    return client.post(APPOINTMENTS, body, **headers)


def test_an_online_booking_with_its_messages_takes_at_most_ten_statements(
    as_patient, consenting_patient, myotherapy, myotherapist
):
    response, sql = statements(lambda: book(as_patient, myotherapy, myotherapist))

    assert response.status_code == 201, response.json()
    appointment = Appointment.objects.get(pk=response.json()["id"])
    assert Notification.objects.filter(appointment=appointment).count() >= 2
    assert len(sql) <= BOOKING_STATEMENTS, "\n\n".join(sql)
    assert not any(statement.startswith("SAVEPOINT") for statement in sql)


def test_an_idempotent_booking_adds_only_its_key(
    as_patient, consenting_patient, myotherapy, myotherapist
):
    response, sql = statements(
        lambda: book(as_patient, myotherapy, myotherapist, HTTP_IDEMPOTENCY_KEY="visit-1")
    )

    assert response.status_code == 201, response.json()
    assert len(sql) <= WITH_IDEMPOTENCY_KEY, "\n\n".join(sql)


def test_moving_and_cancelling_cost_about_what_booking_does(
    as_patient, consenting_patient, myotherapy, myotherapist
):
    booked = book(as_patient, myotherapy, myotherapist).json()["id"]

    moved, move_sql = statements(
        lambda: as_patient.post(f"{APPOINTMENTS}{booked}/reschedule/", {"start": AT_ONE})
    )
    cancelled, cancel_sql = statements(
        lambda: as_patient.post(f"{APPOINTMENTS}{booked}/cancel/", {})
    )

    assert moved.status_code == 200 and moved.json()["start"] == AT_ONE
    assert cancelled.status_code == 200 and cancelled.json()["status"] == Status.CANCELLED
    assert len(move_sql) <= MOVE_STATEMENTS, "\n\n".join(move_sql)
    assert len(cancel_sql) <= CANCEL_STATEMENTS, "\n\n".join(cancel_sql)


def test_naming_the_location_adds_no_statement(
    as_patient, consenting_patient, myotherapy, myotherapist, location
):
    response, sql = statements(
        lambda: book(as_patient, myotherapy, myotherapist, location=location.pk)
    )

    assert response.status_code == 201, response.json()
    assert response.json()["location"]["id"] == location.pk
    assert len(sql) <= BOOKING_STATEMENTS, "\n\n".join(sql)


@pytest.mark.parametrize("open_location", [False, True])
def test_a_closed_or_unknown_location_is_400_naming_it(
    as_patient, consenting_patient, myotherapy, myotherapist, location, open_location
):
    if open_location:
        unknown = location.pk + 1000
    else:
        location.is_active = False
        location.save()
        unknown = location.pk
    before = Appointment.objects.count()

    response = book(as_patient, myotherapy, myotherapist, location=unknown)

    assert response.status_code == 400
    assert response.json()["fields"]["location"] == [
        f'Invalid pk "{unknown}" - object does not exist.'
    ]
    assert Appointment.objects.count() == before


WITH_A_HOLD = BOOKING_STATEMENTS + 3  # the hold read, its practitioner and room locked, ended


def test_a_booking_with_a_hold_adds_only_the_holds_statements(
    as_patient, consenting_patient, myotherapy, myotherapist
):
    held = as_patient.post(
        "/api/v1/holds/",
        {"service": myotherapy.pk, "practitioner": myotherapist.pk, "start": AT_TEN},
    ).json()["id"]

    response, sql = statements(lambda: as_patient.post(APPOINTMENTS, {"hold": held}))

    assert response.status_code == 201, response.json()
    assert len(sql) <= WITH_A_HOLD, "\n\n".join(sql)
    assert not any(statement.startswith("SAVEPOINT") for statement in sql)
