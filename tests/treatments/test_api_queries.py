"""The clinical endpoints read a fixed number of queries, however many notes and exercises."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.treatments.api_helpers import NOTES, OUTCOMES, PLANS, progress_url, session_of
from treatments.models import Phase
from treatments.services import (
    add_addendum,
    move_plan_to_phase,
    record_odi,
    sign_note,
    start_note,
    update_draft,
)

pytestmark = pytest.mark.usefixtures("frozen_now", "fresh_throttles")


def add_signed_notes(count, start_days_ago, patient, practitioner, service, location, room):
    """`count` signed notes, each with five exercises, an addendum and a pain score."""
    for n in range(count):
        appointment = session_of(
            patient, practitioner, service, location, room, start_days_ago + n, hour=14
        )
        note = start_note(appointment=appointment, author=practitioner)
        update_draft(
            note=note,
            author=practitioner,
            changes={"pain_score": n % 11, "regions_treated": ["piriformis"]},
            exercises=[
                {"exercise": f"Lift {i}", "sets": 3, "reps": 5, "effort": 7} for i in range(5)
            ],
        )
        note = sign_note(note=note, author=practitioner)
        add_addendum(note=note, author=practitioner, text="Seen again.")
        record_odi(patient=patient, answers=[1] * 10, by=None, appointment=appointment)


@pytest.mark.parametrize(
    ("client_name", "path"),
    [
        ("as_practitioner", lambda patient: NOTES),
        ("as_manager", lambda patient: NOTES),
        ("as_practitioner", progress_url),
        ("as_practitioner", lambda patient: OUTCOMES),
        ("as_practitioner", lambda patient: PLANS),
    ],
    ids=["notes", "notes as manager", "progress", "outcomes", "plans"],
)
def test_queries_do_not_grow_with_notes_and_exercises(
    request,
    client_name,
    path,
    assessed_patient,
    myotherapist,
    myotherapy,
    location,
    treatment_rooms,
    plan,
):
    client = request.getfixturevalue(client_name)
    move_plan_to_phase(plan=plan, phase=Phase.RELEASE, by=None)
    room = treatment_rooms[0]

    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path(assessed_patient), {"page_size": 100})
        assert response.status_code == 200, response.json()
        return len(captured), response.json()

    add_signed_notes(2, 1, assessed_patient, myotherapist, myotherapy, location, room)
    few_queries, few = queries()
    add_signed_notes(18, 3, assessed_patient, myotherapist, myotherapy, location, room)
    many_queries, many = queries()

    assert many_queries == few_queries
    if path(assessed_patient) == NOTES:
        assert (few["count"], many["count"]) == (2, 20)
        assert all(len(note["exercises"]) == 5 for note in many["results"])
        assert all(len(note["addenda"]) == 1 for note in many["results"])
    if path(assessed_patient) == progress_url(assessed_patient):
        assert (len(few["pain"]), len(many["pain"])) == (2, 20)
        assert (len(few["odi"]), len(many["odi"])) == (2, 20)
