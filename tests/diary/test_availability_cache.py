"""`GET /availability/` answered from the cache: the same body as ever, one query on a hit,
never an answer to a question that would now be refused, an answer with Redis down, and —
with bookings committing in other threads all the while — never a slot that a committed
booking took.

Transactional: each thread has its own database connection, and the diary versions move
when a booking commits.
"""

import json
import random
import threading
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments import slot_cache
from appointments.services import book_appointment
from kernel.errors import DomainError
from practice.models import BookingRules, Practitioner, Service
from tests.appointments.availability_helpers import uncached_body
from tests.factories import PatientFactory, ServiceFactory
from tests.fixtures.api_clients import client_for
from tests.fixtures.clinic import NOW, TODAY

pytestmark = [
    pytest.mark.usefixtures("frozen_now", "fresh_throttles"),
    pytest.mark.django_db(transaction=True),
]

AVAILABILITY = "/api/v1/availability/"
TUESDAY = TODAY + timedelta(days=1)
LAST = TODAY + timedelta(days=13)


@pytest.fixture(autouse=True)
def booking_rules():
    """As in a migrated database (a transactional test's flush removes the row): else the
    first answer creates it, which moves every version on."""
    BookingRules.current()


def fortnight(service) -> dict:
    return {"service": service.pk, "from": TODAY, "to": LAST}


@pytest.mark.parametrize("who", ["anonymous", "as_reception"])
def test_the_body_is_the_one_the_endpoint_always_sent(
    request, who, assessment, myotherapist, second_myotherapist
):
    client = request.getfixturevalue(who)

    computed = client.get(AVAILABILITY, fortnight(assessment))
    kept = client.get(AVAILABILITY, fortnight(assessment))

    expected = uncached_body(assessment, TODAY, LAST, online=who == "anonymous", now=NOW)
    assert computed.status_code == kept.status_code == 200
    assert computed["Content-Type"] == kept["Content-Type"] == "application/json"
    assert computed.content == kept.content == expected


def test_a_hit_reads_the_versions_and_nothing_else(anonymous, assessment, myotherapist):
    anonymous.get(AVAILABILITY, fortnight(assessment))

    with CaptureQueriesContext(connection) as hit:
        response = anonymous.get(AVAILABILITY, fortnight(assessment))

    assert response.status_code == 200
    assert len(hit.captured_queries) == 1
    assert "practice_diaryversion" in hit.captured_queries[0]["sql"]


@pytest.mark.parametrize("staff_first", [True, False])
def test_a_patient_never_gets_what_was_kept_for_staff(
    staff_first, anonymous, as_reception, myotherapist
):
    phone_only = ServiceFactory(bookable_online=False)
    asks = [(as_reception, 200), (anonymous, 400)]

    for client, status in asks if staff_first else asks[::-1]:
        assert client.get(AVAILABILITY, fortnight(phone_only)).status_code == status


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda c: Practitioner.objects.filter(pk=c.pk).update(is_active=False), "practitioner"),
        (
            lambda c: Service.objects.update(bookable_online=False),
            "service",
        ),
    ],
)
def test_a_question_is_checked_again_once_the_diary_changed(
    change, field, anonymous, assessment, myotherapist
):
    question = {**fortnight(assessment), "practitioner": myotherapist.pk}
    assert anonymous.get(AVAILABILITY, question).status_code == 200  # kept

    change(myotherapist)
    response = anonymous.get(AVAILABILITY, question)

    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_with_redis_down_it_still_answers(settings, anonymous, assessment, myotherapist):
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:9/0"}
    }

    response = anonymous.get(AVAILABILITY, fortnight(assessment))

    assert response.status_code == 200
    assert response.content == uncached_body(assessment, TODAY, LAST, online=True, now=NOW)


# --- coherence under concurrency ---------------------------------------------------------

BOOKERS = 3
BOOKINGS_EACH = 6
READERS = 2


def offered(body: bytes) -> list[tuple[int, datetime, datetime]]:
    return [
        (
            slot["practitioner"],
            datetime.fromisoformat(slot["start"]),
            datetime.fromisoformat(slot["end"]),
        )
        for slot in json.loads(body)["slots"]
    ]


def test_a_booked_slot_is_never_offered_once_the_booking_has_committed(
    monkeypatch, assessment, myotherapist, second_myotherapist
):
    """Bookers book an offered slot and ask again at once; readers keep asking. Every answer
    is checked against every booking that had committed before the question was sent."""
    computed = []
    compute = slot_cache._answer

    def counted(*args, **kwargs):
        computed.append(args)
        return compute(*args, **kwargs)

    monkeypatch.setattr(slot_cache, "_answer", counted)
    question = {"service": assessment.pk, "from": TUESDAY, "to": TUESDAY + timedelta(days=1)}
    patients = [PatientFactory() for _ in range(BOOKERS * BOOKINGS_EACH)]
    committed: list[tuple[int, datetime, datetime]] = []  # practitioner, start, blocked until
    lock = threading.Lock()
    bookers_done = threading.Event()
    answers, failures = [], []

    def ask(client) -> list[tuple[int, datetime, datetime]]:
        with lock:
            known = list(committed)
        response = client.get(AVAILABILITY, question)
        assert response.status_code == 200, response.content
        slots = offered(response.content)
        for practitioner, start, end in slots:
            for booked_practitioner, booked_start, blocked_until in known:
                if (
                    practitioner == booked_practitioner
                    and booked_start < end
                    and start < blocked_until
                ):
                    failures.append(f"{start} with {practitioner} offered after it was booked")
        with lock:
            answers.append(len(slots))
        return slots

    def booker(n: int) -> None:
        client, rng = client_for(), random.Random(n)
        practitioners = {p.pk: p for p in (myotherapist, second_myotherapist)}
        for patient in patients[n::BOOKERS]:
            practitioner, start, _ = rng.choice(ask(client))
            try:
                appointment = book_appointment(
                    patient=patient,
                    service=assessment,
                    practitioner=practitioners[practitioner],
                    start=start,
                )
            except DomainError:  # another booker took it first
                continue
            with lock:
                committed.append((practitioner, appointment.start, appointment.blocked_until))
            ask(client)

    def reader() -> None:
        client = client_for()
        while not bookers_done.is_set():
            ask(client)

    def run(target, *args) -> None:
        try:
            target(*args)
        except BaseException as error:  # a thread's failure must fail the test
            failures.append(f"{type(error).__name__}: {error}")
        finally:
            connection.close()

    readers = [threading.Thread(target=run, args=(reader,)) for _ in range(READERS)]
    bookers = [threading.Thread(target=run, args=(booker, n)) for n in range(BOOKERS)]
    for thread in readers + bookers:
        thread.start()
    for thread in bookers:
        thread.join(timeout=120)
    bookers_done.set()
    for thread in readers:
        thread.join(timeout=120)

    assert failures == []
    assert len(committed) >= BOOKERS * BOOKINGS_EACH // 2
    assert len(computed) < len(answers)  # some answers came from the cache
