from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments.models import Status
from tests.factories import AppointmentFactory
from tests.fixtures.clinic import TODAY, at
from treatments.services import (
    add_addendum,
    record_odi,
    sign_note,
    start_note,
    submit_intake,
    update_draft,
)

EXPORT = "/api/v1/patients/me/export/"


def completed_session(patient, practitioner, service, location, room, days_ago):
    return AppointmentFactory(
        patient=patient,
        practitioner=practitioner,
        service=service,
        location=location,
        room=room,
        start=at(TODAY - timedelta(days=days_ago), 14),
        status=Status.COMPLETED,
    )


@pytest.fixture
def record(assessed_patient, patient_user, myotherapist, myotherapy, location, treatment_rooms):
    """Ari's record: an intake, a signed note with an exercise and an addendum, a draft,
    and an ODI score."""
    submit_intake(
        patient=assessed_patient,
        answers={
            "complaint": "Sciatica on the left",
            "pain_score": 7,
            "duration": "chronic",
            "activity": "returning_runner",
            "red_flags": [],
        },
        entered_by=patient_user,
    )
    signed_session, draft_session = (
        completed_session(
            assessed_patient, myotherapist, myotherapy, location, treatment_rooms[0], days
        )
        for days in (14, 7)
    )
    note = start_note(appointment=signed_session, author=myotherapist)
    update_draft(
        note=note,
        author=myotherapist,
        changes={"subjective": "Better since last week", "pain_score": 4},
        exercises=[{"exercise": "Deadlift", "sets": 3, "reps": 5, "effort": 7, "guarded": True}],
    )
    note = sign_note(note=note, author=myotherapist)
    add_addendum(note=note, author=myotherapist, text="Load was 40 kg.")
    draft = start_note(appointment=draft_session, author=myotherapist)
    update_draft(note=draft, author=myotherapist, changes={"subjective": "Unfinished draft"})
    record_odi(patient=assessed_patient, answers=[2, 1, 3, 2, 1, 1, 0, None, 1, 3], by=None)


def test_a_patient_downloads_their_whole_record(as_patient, record, assessed_patient):
    body = as_patient.get(EXPORT).json()

    assert body["patient"]["id"] == assessed_patient.pk
    assert body["intakes"][0]["complaint"] == "Sciatica on the left"
    assert len(body["appointments"]) == 3  # the assessment and two sessions
    [note] = body["treatment_notes"]
    assert note["subjective"] == "Better since last week"
    assert note["exercises"][0]["exercise"] == "Deadlift" and note["exercises"][0]["guarded"]
    assert note["addenda"][0]["text"] == "Load was 40 kg."
    kinds = sorted((m["kind"], m["value"]) for m in body["outcome_measures"])
    assert kinds == [("odi", "31.1"), ("pain", "4.0")]


def test_drafts_are_not_part_of_the_record(as_patient, record):
    assert "Unfinished draft" not in as_patient.get(EXPORT).content.decode()


def test_only_ones_own_record(as_other_patient, record):
    body = as_other_patient.get(EXPORT).json()

    assert body["appointments"] == [] and body["treatment_notes"] == []
    assert "Sciatica" not in str(body)


def test_staff_and_strangers_have_no_export(as_reception, anonymous):
    assert as_reception.get(EXPORT).status_code == 403
    assert anonymous.get(EXPORT).status_code == 401


def test_queries_do_not_grow_with_the_record(
    as_patient, record, assessed_patient, myotherapist, myotherapy, location, treatment_rooms
):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert as_patient.get(EXPORT).status_code == 200
        return len(captured)

    few = queries()
    for days in range(20, 30):
        session = completed_session(
            assessed_patient, myotherapist, myotherapy, location, treatment_rooms[0], days
        )
        note = start_note(appointment=session, author=myotherapist)
        update_draft(
            note=note,
            author=myotherapist,
            changes={"pain_score": 5},
            exercises=[{"exercise": "Squat", "sets": 3, "reps": 8, "effort": 6}] * 3,
        )
        note = sign_note(note=note, author=myotherapist)
        add_addendum(note=note, author=myotherapist, text="ok")

    assert queries() == few
