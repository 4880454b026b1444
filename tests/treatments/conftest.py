"""The assessed patient's clinical records as the API's tests find them: three of the
practitioner's recent sessions, a signed note and a draft on two of them, a plan, an ODI and
an intake with a red flag. (The admin's tests bring their own, from
`admin_helpers.AdminRecords`.)"""

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.fixtures.clinic import TODAY, at, make_coach
from tests.treatments.api_helpers import EXERCISES, INTAKE_ANSWERS, ODI_ONE_UNANSWERED, session_of
from tests.treatments.outcomes_cohort import build_cohort, build_outsiders
from treatments.models import Phase, RedFlag
from treatments.services import (
    create_plan,
    record_odi,
    sign_note,
    start_note,
    submit_intake,
    update_draft,
)


@pytest.fixture
def sessions(assessed_patient, myotherapist, myotherapy, location, treatment_rooms):
    """Three of the practitioner's sessions with the patient, in the last three days."""
    return [
        session_of(assessed_patient, myotherapist, myotherapy, location, treatment_rooms[0], n)
        for n in (1, 2, 3)
    ]


@pytest.fixture
def signed(sessions, myotherapist):
    note = start_note(appointment=sessions[0], author=myotherapist)
    update_draft(
        note=note,
        author=myotherapist,
        changes={"subjective": "Better after release.", "pain_score": 4, "plan": "NMPT next."},
        exercises=[{**entry, "load_kg": Decimal(str(entry["load_kg"]))} for entry in EXERCISES],
    )
    return sign_note(note=note, author=myotherapist)


@pytest.fixture
def draft(sessions, myotherapist):
    note = start_note(appointment=sessions[1], author=myotherapist)
    return update_draft(
        note=note, author=myotherapist, changes={"subjective": "Sore after the run."}
    )


@pytest.fixture
def plan(assessed_patient, myotherapist):
    return create_plan(
        patient=assessed_patient,
        practitioner=myotherapist,
        goals="Pain-free running",
        phases=[
            {"phase": Phase.ASSESS, "planned_sessions": 1, "sessions_per_week": 1},
            {"phase": Phase.RELEASE, "planned_sessions": 4, "sessions_per_week": 1},
            {"phase": Phase.MAINTAIN, "planned_sessions": 6, "sessions_per_week": "0.2"},
        ],
    )


@pytest.fixture
def odi(assessed_patient, myotherapist):
    return record_odi(
        patient=assessed_patient,
        answers=ODI_ONE_UNANSWERED,
        by=myotherapist.user,
        recorded_at=at(TODAY - timedelta(days=30), 9),
    )


@pytest.fixture
def intake(assessed_patient):
    return submit_intake(
        patient=assessed_patient,
        answers={**INTAKE_ANSWERS, "red_flags": [RedFlag.SADDLE_NUMBNESS]},
        entered_by=None,
    )


@pytest.fixture
def records(signed, draft, plan, odi, intake, sessions):
    return {
        "signed": signed,
        "draft": draft,
        "plan": plan,
        "odi": odi,
        "intake": intake,
        "fresh_session": sessions[2],
    }


@pytest.fixture
def practitioners(myotherapist, second_myotherapist, location, gym):
    """The outcomes report's three practitioners, by first name."""
    return {
        "mia": myotherapist,
        "max": second_myotherapist,
        "cal": make_coach(location, gym, "Cal"),
    }


@pytest.fixture
def outcomes_cohort(practitioners, myotherapy, location):
    """The outcomes report's cohort counted by hand (`outcomes_cohort.COURSES`), and the
    patients who did not start care in its period."""
    build_outsiders(practitioners["mia"], myotherapy, location)
    return build_cohort(practitioners, myotherapy, location)
