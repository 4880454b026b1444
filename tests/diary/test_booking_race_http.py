"""Concurrent bookings over HTTP: the API gives exactly one slot to exactly one caller.

Each caller is its own thread with its own test client, bearer token and database
connection; a barrier releases them together, so the requests really race through the
views, the booking rules and PostgreSQL's exclusion constraints.
"""

import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from appointments.models import Appointment, BookingRequest, Status
from tests.factories import AppointmentFactory, PatientFactory, UserFactory
from tests.fixtures.clinic import TODAY, at

pytestmark = [
    pytest.mark.usefixtures("frozen_now", "fresh_throttles"),
    pytest.mark.django_db(transaction=True),
]

APPOINTMENTS = "/api/v1/appointments/"
TUESDAY = TODAY + timedelta(days=1)
SLOT = "2027-03-23T10:00:00+11:00"  # Tuesday 10:00 in Melbourne, on the grid, free
BOOKERS = 30


class Answer:
    """What one racing request got back (or the exception it raised instead)."""

    def __init__(self, status: int, body: object, headers: dict[str, str]):
        self.status, self.body, self.headers = status, body, headers

    def __repr__(self) -> str:
        return f"<{self.status} {self.body}>"


def race(requests: list[Callable[[], object]]) -> list[Answer | str]:
    """Send the requests at the same moment, one thread and connection each."""
    barrier = threading.Barrier(len(requests))
    answers: list[Answer | str] = [f"{n}: never answered" for n in range(len(requests))]

    def run(n: int, send: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=30)
            response = send()
            body = response.json() if response.content else None
            answers[n] = Answer(response.status_code, body, dict(response.headers))
        except Exception as error:  # a view that raises is a 500: show it
            answers[n] = f"{type(error).__name__}: {error}"
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n, send)) for n, send in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


def assessed_patients(count, location, room, practitioner, assessment):
    """Patients with a login who each had their assessment on a different past day."""
    patients = []
    for n in range(count):
        patient = PatientFactory(user=UserFactory(email=f"racer{n}@example.com"))
        AppointmentFactory(
            patient=patient,
            practitioner=practitioner,
            service=assessment,
            location=location,
            room=room,
            start=at(TODAY - timedelta(days=n + 1), 10),
            status=Status.COMPLETED,
        )
        patients.append(patient)
    return patients


def statuses(answers) -> Counter:
    return Counter(a.status if isinstance(a, Answer) else a for a in answers)


def test_thirty_patients_one_slot_one_booking(
    location, treatment_rooms, myotherapist, assessment, myotherapy
):
    patients = assessed_patients(BOOKERS, location, treatment_rooms[0], myotherapist, assessment)
    clients = [client_for(patient.user) for patient in patients]
    body = {"service": myotherapy.pk, "practitioner": myotherapist.pk, "start": SLOT}

    answers = race([lambda c=c: c.post(APPOINTMENTS, body, format="json") for c in clients])

    assert statuses(answers) == Counter({201: 1, 409: BOOKERS - 1}), answers
    refusals = [a.body for a in answers if a.status == 409]
    assert {r["code"] for r in refusals} == {"slot_unavailable"}, refusals
    booked = Appointment.objects.filter(service=myotherapy)
    assert booked.count() == 1
    (winner,) = [a for a in answers if a.status == 201]
    appointment = booked.get()
    assert winner.body["id"] == appointment.pk
    assert winner.body["patient"]["id"] == appointment.patient_id
    assert appointment.status == Status.BOOKED and winner.body["start"] == SLOT


def test_one_idempotency_key_sent_ten_times_at_once_books_once(
    location, treatment_rooms, myotherapist, assessment, myotherapy
):
    (patient,) = assessed_patients(1, location, treatment_rooms[0], myotherapist, assessment)
    clients = [client_for(patient.user) for _ in range(10)]
    body = {"service": myotherapy.pk, "practitioner": myotherapist.pk, "start": SLOT}

    answers = race(
        [
            lambda c=c: c.post(APPOINTMENTS, body, format="json", HTTP_IDEMPOTENCY_KEY="tap-tap")
            for c in clients
        ]
    )

    assert statuses(answers) == Counter({201: 10}), answers
    assert all(a.body == answers[0].body for a in answers), answers
    replayed = Counter(a.headers.get("Idempotent-Replayed") for a in answers)
    assert replayed == Counter({"false": 1, "true": 9}), replayed
    assert Appointment.objects.filter(service=myotherapy).count() == 1
    assert Appointment.objects.get(service=myotherapy).pk == answers[0].body["id"]
    assert BookingRequest.objects.filter(key="tap-tap").count() == 1
