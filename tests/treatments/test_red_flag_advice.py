"""A patient who reports an urgent red flag is told at once, in plain words, to seek urgent
medical care; reception sees the red-flag marker on every list and page of the patient
(issue 16)."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.treatments.api_helpers import INTAKE_ANSWERS, MY_INTAKE
from treatments.services import submit_intake

pytestmark = pytest.mark.usefixtures("frozen_now", "fresh_throttles")


@pytest.mark.parametrize(
    ("red_flags", "urgent"),
    [
        (["saddle_numbness", "fever"], ["saddle_numbness"]),
        (["bladder_bowel_change"], ["bladder_bowel_change"]),
        (
            ["leg_weakness_episodes", "saddle_numbness", "bladder_bowel_change"],
            ["saddle_numbness", "bladder_bowel_change", "leg_weakness_episodes"],
        ),
    ],
)
def test_the_answer_tells_the_patient_to_seek_urgent_care(as_patient, red_flags, urgent):
    response = as_patient.post(MY_INTAKE, {**INTAKE_ANSWERS, "red_flags": red_flags})

    assert response.status_code == 201, response.json()
    advice = response.json()["urgent_advice"]
    assert advice["red_flags"] == urgent
    assert "Please get medical help today" in advice["message"]
    assert "emergency department" in advice["message"] and "000" in advice["message"]


def test_the_advice_names_the_answers_in_plain_words(as_patient):
    response = as_patient.post(
        MY_INTAKE, {**INTAKE_ANSWERS, "red_flags": ["saddle_numbness", "bladder_bowel_change"]}
    )

    message = response.json()["urgent_advice"]["message"]
    assert "(saddle numbness; bladder or bowel changes)" in message
    assert "_" not in message


@pytest.mark.parametrize("red_flags", [[], ["fever", "recent_trauma", "severe_leg_pain"]])
def test_no_urgent_advice_without_an_urgent_red_flag(as_patient, red_flags):
    response = as_patient.post(MY_INTAKE, {**INTAKE_ANSWERS, "red_flags": red_flags})

    assert response.status_code == 201
    assert response.json()["urgent_advice"] is None


def test_the_schema_documents_the_urgent_advice():
    schema = Client().get("/api/schema/?format=json").json()

    answer = schema["paths"]["/api/v1/patients/me/intake/"]["post"]["responses"]["201"]
    reference = answer["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    advice = schema["components"]["schemas"][reference]["properties"]["urgent_advice"]
    assert advice.get("nullable") or {"type": "null"} in advice.get("oneOf", [])
    assert "urgent medical care" in advice["description"]


@pytest.fixture
def flagged_patient(assessed_patient, patient_user):
    submit_intake(
        patient=assessed_patient,
        answers={**INTAKE_ANSWERS, "red_flags": ["saddle_numbness"]},
        entered_by=patient_user,
    )
    return assessed_patient


def test_reception_sees_the_marker_in_the_patient_list(reception_staff, flagged_patient):
    page = reception_staff.get(reverse("admin:patients_patient_changelist")).content.decode()

    assert "&#9873; red flags" in page
    assert "saddle" not in page.lower()  # the reasons are for clinicians


def test_reception_sees_the_marker_in_the_appointment_list(reception_staff, flagged_patient):
    changelist = reverse("admin:appointments_appointment_changelist")
    # All dates, as "Any date" inside the list shows them (the bare list opens on today).
    page = reception_staff.get(
        changelist, HTTP_REFERER=f"http://testserver{changelist}"
    ).content.decode()

    assert "&#9873; red flags" in page
    assert "saddle" not in page.lower()


def test_reception_sees_the_marker_on_the_appointment(reception_staff, flagged_patient):
    appointment = flagged_patient.appointments.get()

    page = reception_staff.get(
        reverse("admin:appointments_appointment_change", args=[appointment.pk])
    ).content.decode()

    assert "&#9873; red flags" in page


def test_no_marker_without_open_red_flags(reception_staff, assessed_patient):
    page = reception_staff.get(reverse("admin:patients_patient_changelist")).content.decode()

    assert assessed_patient.last_name in page
    assert "&#9873; red flags" not in page
