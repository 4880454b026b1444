"""Mixed, realistic traffic for `make soak` (bench/soak.py runs it headless).

Visitors browse the catalogue and free slots; signed-in patients read their profile and
bookings, book a free slot they were shown, and later move or cancel it (so the diary does
not fill up over half an hour); practitioners read their notes and a patient's progress;
reception looks up the day and searches patients. Everyone pauses between steps, as people
do. BENCH_SOAK_PLAN names a JSON file with the logins (tokens) and ids to use; every
answer's time, status and moment go to BENCH_OUTPUT when locust quits.
"""

from __future__ import annotations

import json
import os
import random
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from locust import FastHttpUser, between, events, task

with open(os.environ["BENCH_SOAK_PLAN"]) as plan_file:
    PLAN = json.load(plan_file)
SAMPLES: list[tuple[float, str, float, int]] = []


def window(days_ahead: int, days: int = 14) -> tuple[str, str]:
    first = datetime.now(ZoneInfo("Australia/Melbourne")).date() + timedelta(days=days_ahead)
    return first.isoformat(), (first + timedelta(days=days - 1)).isoformat()


class SignedIn(FastHttpUser):
    abstract = True
    role = ""

    def on_start(self) -> None:
        login = random.choice(PLAN["logins"][self.role])
        self.client.headers = {"Authorization": f"Bearer {login['token']}"}
        self.login = login

    def get(self, path: str, name: str | None = None):
        return self.client.get(path, headers=self.client.headers, name=name or path)

    def post(self, path: str, body: dict, name: str):
        return self.client.post(path, json=body, headers=self.client.headers, name=name)


class Visitor(FastHttpUser):
    weight = 6
    wait_time = between(1, 4)

    @task(1)
    def catalogue(self) -> None:
        for path in ("/api/v1/services/", "/api/v1/locations/", "/api/v1/practitioners/"):
            self.client.get(path)

    @task(4)
    def free_slots(self) -> None:
        first, last = window(random.randint(0, 20))
        service = random.choice(PLAN["services"])
        self.client.get(
            f"/api/v1/availability/?service={service}&from={first}&to={last}",
            name="/api/v1/availability/",
        )


class Patient(SignedIn):
    weight = 3
    wait_time = between(2, 6)
    role = "patient"

    @task(3)
    def my_bookings(self) -> None:
        self.get("/api/v1/appointments/")

    @task(1)
    def my_profile(self) -> None:
        self.get("/api/v1/patients/me/")

    @task(2)
    def book_then_move_or_cancel(self) -> None:
        first, last = window(3)
        service = PLAN["booking_service"]
        answer = self.get(
            f"/api/v1/availability/?service={service}&from={first}&to={last}",
            name="/api/v1/availability/",
        )
        slots = (answer.json() or {}).get("slots", []) if answer.status_code == 200 else []
        if not slots:
            return
        slot = random.choice(slots)
        body = {
            "service": service,
            "practitioner": slot["practitioner"],
            "start": slot["start"],
            "location": slot["location"],
        }
        booked = self.post("/api/v1/appointments/", body, name="/api/v1/appointments/ (book)")
        if booked.status_code != 201:
            return  # taken meanwhile (409) or over the patient's own booking
        appointment = booked.json()["id"]
        if random.random() < 0.3 and len(slots) > 1:
            other = random.choice(slots)
            self.post(
                f"/api/v1/appointments/{appointment}/reschedule/",
                {"start": other["start"], "practitioner": other["practitioner"]},
                name="/api/v1/appointments/{id}/reschedule/",
            )
        self.post(
            f"/api/v1/appointments/{appointment}/cancel/",
            {"reason": "soak"},
            name="/api/v1/appointments/{id}/cancel/",
        )


class Practitioner(SignedIn):
    weight = 1
    wait_time = between(3, 8)
    role = "practitioner"

    @task(3)
    def my_notes(self) -> None:
        self.get("/api/v1/treatment-notes/")

    @task(1)
    def a_patients_progress(self) -> None:
        patient = random.choice(self.login["patients"])
        self.get(f"/api/v1/patients/{patient}/progress/", name="/api/v1/patients/{id}/progress/")

    @task(1)
    def the_days_bookings(self) -> None:
        self.get("/api/v1/appointments/")


class Reception(SignedIn):
    weight = 1
    wait_time = between(2, 6)
    role = "reception"

    @task(2)
    def search_patients(self) -> None:
        term = random.choice(PLAN["search_terms"])
        self.get(f"/api/v1/patients/?search={term}", name="/api/v1/patients/?search=")

    @task(2)
    def bookings(self) -> None:
        self.get("/api/v1/appointments/")

    @task(1)
    def message_log(self) -> None:
        self.get("/api/v1/notifications/")


@events.request.add_listener
def record(name: str, response_time: float, response, **kwargs) -> None:
    status = getattr(response, "status_code", 0) or 0
    SAMPLES.append((time.time(), name, response_time, status))


@events.quitting.add_listener
def write_results(environment, **kwargs) -> None:
    with open(os.environ["BENCH_OUTPUT"], "w") as output:
        json.dump(SAMPLES, output)
