"""How to call each endpoint of the API about patient A: the ids its URL names and a body
that a persona entitled to it would have had accepted."""

import json
from datetime import timedelta

from django.urls import reverse
from rest_framework.test import APIClient

from tests.fixtures.clinic import TODAY
from tests.security.endpoints import WRITE_METHODS
from tests.security.personas import PASSWORD, Persona, World

FORGED_OFFER_TOKEN = "0123456789abcdef0123456789abcdef:1abcde:not-the-signature"

# The URL kwargs of each endpoint: one of A's records (or A herself).
KWARGS = {
    "appointment-detail": lambda w: {"pk": w.future_visit.pk},
    "appointment-cancel": lambda w: {"pk": w.future_visit.pk},
    "appointment-confirm": lambda w: {"pk": w.future_visit.pk},
    "appointment-reschedule": lambda w: {"pk": w.future_visit.pk},
    "appointment-ics": lambda w: {"pk": w.future_visit.pk},
    # A hold is nobody's record: its id is its secret. One that does not exist.
    "hold-detail": lambda w: {"pk": "00000000-0000-0000-0000-000000000000"},
    "patient-detail": lambda w: {"pk": w.patient_a.pk},
    "patient-progress": lambda w: {"pk": w.patient_a.pk},
    "patient-break-glass": lambda w: {"pk": w.patient_a.pk},
    "notification-detail": lambda w: {"pk": w.notification.pk},
    "treatment-note-detail": lambda w: {"pk": w.draft_note.pk},
    "treatment-note-sign": lambda w: {"pk": w.draft_note.pk},
    "treatment-note-addenda": lambda w: {"pk": w.signed_note.pk},
    "treatment-plan-detail": lambda w: {"pk": w.plan.pk},
    "treatment-plan-phase": lambda w: {"pk": w.plan.pk},
    "outcome-measure-detail": lambda w: {"pk": w.pain.pk},
    "intake-detail": lambda w: {"pk": w.intake.pk},
    "intake-clearance": lambda w: {"pk": w.intake.pk},
    "location-detail": lambda w: {"pk": w.future_visit.location_id},
    "service-detail": lambda w: {"pk": w.myotherapy.pk},
    "practitioner-detail": lambda w: {"pk": w.practitioner.pk},
    "waitlist-entry-detail": lambda w: {"pk": w.waitlist_entry.pk},
    "appointment-series-detail": lambda w: {"pk": w.course.pk},
    "appointment-series-cancel": lambda w: {"pk": w.course.pk},
    # A's place in a class, and that class; the places are booked in a class with none.
    "group-class-detail": lambda w: {"pk": w.group_class.pk},
    "group-class-places": lambda w: {"pk": w.open_class.pk},
    "group-class-series-places": lambda w: {"pk": w.open_class.pk},
    "class-place-detail": lambda w: {"pk": w.class_place.pk},
    "class-place-cancel": lambda w: {"pk": w.class_place.pk},
    "class-place-attendance": lambda w: {"pk": w.class_place.pk},
    # An offer's link is nobody's login: its signed token is the secret. A forged one.
    "waitlist-offer": lambda w: {"token": FORGED_OFFER_TOKEN},
    "waitlist-offer-accept": lambda w: {"token": FORGED_OFFER_TOKEN},
    "waitlist-offer-decline": lambda w: {"token": FORGED_OFFER_TOKEN},
    # A signed-in patient's offer, by its id: the time offered to A's entry.
    "waitlist-own-offer-accept": lambda w: {"public_id": w.waitlist_offer.public_id},
    "waitlist-own-offer-decline": lambda w: {"public_id": w.waitlist_offer.public_id},
    "exercise-detail": lambda w: {"pk": w.exercise.pk},
    "home-exercise-detail": lambda w: {"pk": w.home_exercise.pk},
    "home-exercise-revise": lambda w: {"pk": w.home_exercise.pk},
    "home-exercise-stop": lambda w: {"pk": w.home_exercise.pk},
    "home-exercise-log-detail": lambda w: {"pk": w.home_exercise_log.pk},
    "patient-me-exercise-log-detail": lambda w: {"pk": w.home_exercise_log.pk},
}
# The query of each list read: filtered down to A, so that a filter is no way round a scope.
QUERIES = {
    "availability": lambda w: {
        "service": w.myotherapy.pk,
        "from": (TODAY + timedelta(days=7)).isoformat(),
        "to": (TODAY + timedelta(days=7)).isoformat(),
    },
    "patient-list": lambda w: {"q": w.patient_a.last_name},
    "appointment-list": lambda w: {"practitioner": w.practitioner.pk},
    "notification-list": lambda w: {"patient": w.patient_a.pk},
    "treatment-note-list": lambda w: {"patient": w.patient_a.pk},
    "treatment-plan-list": lambda w: {"patient": w.patient_a.pk},
    "outcome-measure-list": lambda w: {"patient": w.patient_a.pk},
    "intake-list": lambda w: {"patient": w.patient_a.pk},
    "home-exercise-list": lambda w: {"patient": w.patient_a.pk},
    "home-exercise-log-list": lambda w: {"patient": w.patient_a.pk},
}

INTAKE_ANSWERS = {
    "complaint": "Lower back pain",
    "pain_score": 5,
    "duration": "acute",
    "activity": "sedentary",
}
NEXT_MONDAY = TODAY + timedelta(days=7)


# Patients book, send intakes and join the waitlist for themselves: `patient` is not theirs
# to send (400).
PATIENTS = {Persona.PATIENT_A, Persona.PATIENT_B}


def body_for(name: str, method: str, w: World, persona: Persona | None = None) -> dict:
    """A body that a persona entitled to the endpoint would have accepted for A: staff name
    A as the patient; a patient names nobody (their booking or intake is their own)."""
    # Two weekly visits of A's, clear of her other bookings.
    course = {
        "patient": w.patient_a.pk,
        "service": w.myotherapy.pk,
        "practitioner": w.practitioner.pk,
        "location": w.future_visit.location_id,
        "first_date": (TODAY + timedelta(days=21)).isoformat(),
        "at": "16:00",
        "visits": 2,
    }
    bodies = {
        "register": {
            "email": "newcomer@example.com",
            "password": "a long enough passphrase",
            "first_name": "Nora",
            "last_name": "Newcomer",
            "phone": "+61412000111",
            "date_of_birth": "1990-01-01",
        },
        "token": {"email": w.patient_a.email, "password": "not her password"},
        "token-refresh": {"refresh": "not-a-token"},
        "verify-email": {"token": "not-a-token"},
        "verify-email-resend": {"email": w.patient_a.email},
        "password-reset": {"email": w.patient_a.email},
        "password-reset-confirm": {"token": "not-a-token", "password": "a long enough passphrase"},
        "patient-me-email": {"email": "moved@example.com", "password": PASSWORD},
        "patient-me": {"preferred_channel": "sms"},  # a name is not hers to change online
        "patient-break-glass": {"reason": "Called in to cover: she is in the waiting room"},
        "patient-me-intake": {**INTAKE_ANSWERS, "patient": w.patient_a.pk},
        "appointment-list": {
            "service": w.myotherapy.pk,
            "practitioner": w.practitioner.pk,
            "start": f"{NEXT_MONDAY.isoformat()}T14:00:00+11:00",
            "patient": w.patient_a.pk,
        },
        "appointment-detail": {"start": f"{NEXT_MONDAY.isoformat()}T14:00:00+11:00"},
        "hold": {
            "service": w.myotherapy.pk,
            "practitioner": w.practitioner.pk,
            "start": f"{NEXT_MONDAY.isoformat()}T15:00:00+11:00",
        },
        "appointment-cancel": {"reason": "Away for work"},
        "appointment-reschedule": {"start": f"{NEXT_MONDAY.isoformat()}T14:00:00+11:00"},
        "patient-detail": {"first_name": "Changed", "is_active": False},
        "notification-detail": {"status": "withdrawn"},
        "treatment-note-list": {"appointment": w.unwritten_session.pk, "subjective": "Sore"},
        "treatment-note-detail": {"plan": "Two more release sessions"},
        "treatment-note-addenda": {"text": "Also tight hip flexors"},
        "treatment-plan-list": {"patient": w.patient_a.pk, "goals": "Walk the dog"},
        "treatment-plan-detail": {"goals": "Pain-free lifting"},
        "treatment-plan-phase": {"phase": "strengthen"},
        "outcome-measure-list": {"patient": w.patient_a.pk, "kind": "pain", "value": 3},
        "outcome-measure-detail": {"value": 0},
        "intake-list": {**INTAKE_ANSWERS, "patient": w.patient_a.pk},
        "intake-detail": {"complaint": "Changed"},
        "intake-clearance": {"cleared_on": TODAY.isoformat(), "note": "Seen by her GP"},
        # A is waiting for myotherapy already: an entry for the assessment is a new one.
        "waitlist-entry-list": {
            "service": w.assessment.pk,
            "latest_date": (TODAY + timedelta(days=14)).isoformat(),
            "patient": w.patient_a.pk,
        },
        "waitlist-entry-detail": {"weekdays": [1, 3]},
        "home-exercise-list": {
            "plan": w.plan.pk,
            "exercise": w.exercise.pk,
            "times_per_week": 3,
        },
        "home-exercise-revise": {"reps": 12},
        # A's own exercise: B is told it is none of hers (400 naming the field).
        "patient-me-exercise-log-list": {
            "home_exercise": w.home_exercise.pk,
            "sets_done": 3,
            "reps_done": 8,
        },
        "patient-me-exercise-log-detail": {"pain": 1},
        "appointment-series-list": course,
        "appointment-series-preview": course,
        "appointment-series-cancel": {
            "appointment": w.course_visit.pk,
            "scope": "all",
            "reason": "Away for a month",
        },
        "group-class-places": {"patient": w.patient_a.pk},
        "group-class-series-places": {"patient": w.patient_a.pk},
        "class-place-attendance": {"attendance": "arrived"},
    }
    body = bodies.get(name, {}) if method in WRITE_METHODS else {}
    if persona in PATIENTS and name in (
        "appointment-list",
        "patient-me-intake",
        "waitlist-entry-list",
        "appointment-series-list",
        "appointment-series-preview",
        "group-class-places",
        "group-class-series-places",
    ):
        body = {field: value for field, value in body.items() if field != "patient"}
    return body


def path_for(name: str, method: str, w: World) -> str:
    path = reverse(name, kwargs=KWARGS.get(name, lambda w: {})(w))
    if name in QUERIES and method in {"GET", "HEAD"}:
        path += "?" + "&".join(f"{key}={value}" for key, value in QUERIES[name](w).items())
    return path


def send(client: APIClient, method: str, path: str, body: dict):
    return client.generic(
        method, path, json.dumps(body) if body else "", content_type="application/json"
    )
