"""What the admin's clinical-record tests share: the answers and phases they enter, the
admin's URLs, the form a browser posts back, and the sessions, notes and patients the
test classes that need them inherit from `AdminRecords`."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from appointments.models import Status
from tests.factories import AppointmentFactory, PatientFactory
from tests.fixtures.admin_clients import admin_client, staff_member
from tests.fixtures.clinic import TODAY, at
from treatments.models import Phase
from treatments.services import (
    create_plan,
    record_pain,
    sign_note,
    start_note,
    submit_intake,
    update_draft,
)

INTAKE = {
    "complaint": "Lower back pain radiating to the left leg",
    "symptom_locations": ["lower_back", "leg_left"],
    "sciatica_symptoms": ["pins_and_needles", "sharp_pain_down_leg"],
    "pain_score": 7,
    "duration": "chronic",
    "activity": "new_runner",
    "goals": "Run a half marathon pain-free",
    "red_flags": [],
}
PHASES = [
    {"phase": Phase.ASSESS, "planned_sessions": 1, "sessions_per_week": 1},
    {"phase": Phase.RELEASE, "planned_sessions": 4, "sessions_per_week": 1},
    {"phase": Phase.STRENGTHEN, "planned_sessions": 8, "sessions_per_week": 2},
    {"phase": Phase.MAINTAIN, "planned_sessions": 6, "sessions_per_week": "0.2"},
]
SQUAT = {
    "exercise": "Back squat",
    "sets": 3,
    "reps": 8,
    "load_kg": Decimal("40"),
    "effort": 7,
    "guarded": False,
    "comment": "",
}


def url(model: str, view: str, *args) -> str:
    return reverse(f"admin:treatments_{model}_{view}", args=args)


def session_of(patient, practitioner, service, location, room, days_ago: int, hour: int = 10):
    return AppointmentFactory(
        patient=patient,
        practitioner=practitioner,
        service=service,
        location=location,
        room=room,
        start=at(TODAY - timedelta(days=days_ago), hour),
        status=Status.COMPLETED,
    )


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def posted(response, **overrides) -> dict:
    """What the admin form on `response` posts as it stands (its inlines too), then the
    overrides: as a browser would send it back."""
    data: dict = {}

    def put(name, value):
        if value is None or value is False or value == "":
            return
        data[name] = "on" if value is True else value if isinstance(value, list) else str(value)

    form = response.context["adminform"].form
    for name in form.fields:
        put(name, form[name].value())
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name in formset.management_form.fields:
            put(formset.management_form.add_prefix(name), formset.management_form[name].value())
        for each in formset.forms:
            for name in each.fields:
                put(each.add_prefix(name), each[name].value())
    data.update(overrides)
    return {name: value for name, value in data.items() if value is not None}


class AdminRecords:
    """Yesterday's session of the practitioner with the assessed patient, its draft and its
    signed note; a colleague who treats the same patient; a stranger only the colleague
    treats. (The API's tests have their own `draft` and `signed`, in conftest.py.)"""

    @pytest.fixture
    def room(self, treatment_rooms):
        return treatment_rooms[0]

    @pytest.fixture
    def session(self, assessed_patient, myotherapist, myotherapy, location, room):
        return session_of(assessed_patient, myotherapist, myotherapy, location, room, days_ago=1)

    @pytest.fixture
    def draft(self, session, myotherapist):
        note = start_note(appointment=session, author=myotherapist)
        return update_draft(
            note=note,
            author=myotherapist,
            changes={"subjective": "Sore after running.", "pain_score": 5, "plan": "Release x3"},
            exercises=[SQUAT],
        )

    @pytest.fixture
    def signed(self, draft, myotherapist):
        return sign_note(note=draft, author=myotherapist)

    @pytest.fixture
    def colleague_staff(self, second_myotherapist, assessed_patient, myotherapy, location, room):
        """Max Myo, another practitioner, who also treats the assessed patient."""
        session_of(assessed_patient, second_myotherapist, myotherapy, location, room, days_ago=3)
        user = staff_member(
            second_myotherapist.user.email, "Practitioner", user=second_myotherapist.user
        )
        return admin_client(user)

    @pytest.fixture
    def stranger(self, second_myotherapist, myotherapy, location, room):
        """A patient only Max Myo treats."""
        patient = PatientFactory(first_name="Sol", last_name="Stranger")
        session_of(patient, second_myotherapist, myotherapy, location, room, days_ago=2, hour=12)
        return patient

    @pytest.fixture
    def records_of_both(self, assessed_patient, stranger, myotherapist, second_myotherapist):
        """An intake, a plan and a score for the practitioner's patient and for the stranger."""
        for patient, practitioner in (
            (assessed_patient, myotherapist),
            (stranger, second_myotherapist),
        ):
            submit_intake(patient=patient, answers=INTAKE, entered_by=None)
            create_plan(patient=patient, practitioner=practitioner, goals="Run", phases=PHASES)
            record_pain(patient=patient, score=4, by=None)
