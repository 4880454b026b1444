"""Schemathesis fuzz of the clinical endpoints as every role, over a clinic that has
records: the treating practitioner and a manager, who get past the permission check, and
nobody, the patient whose records they are and reception, who must be refused.
(tests/fuzz/test_schema.py fuzzes every other operation as the same roles.) Same
checks: no 5xx, and every answer is one the schema documents.

Ids 1..4 exist (sequences are reset): patient 1 (Ari, treated by practitioner 1, Mia),
appointments 1-4 of Ari with Mia, notes 1 (signed) and 2 (draft), plan 1, outcome measures,
intake 1 with red flags.
"""

import copy
from datetime import timedelta

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from rest_framework_simplejwt.tokens import AccessToken

from appointments.models import Status
from tests.factories import AppointmentFactory
from tests.fixtures.clinic import TODAY, at
from tests.fuzz.depth import DEEP, EXAMPLES, REFUSED_EXAMPLES, drawing
from tests.fuzz.test_schema import CHECKS, SPEC
from treatments.models import Phase, RedFlag
from treatments.services import (
    create_plan,
    record_odi,
    record_pain,
    sign_note,
    start_note,
    submit_intake,
    update_draft,
)

# Rolled back after each test, ids counted from 1 (tests/fuzz/conftest.py).
pytestmark = pytest.mark.usefixtures("frozen_now", "fresh_throttles")

OTHERS = ["anonymous", "patient", "reception"]
MAX_EXAMPLES = EXAMPLES * 2 // 3  # 10 in make test, 20 in CI's second pass
IDS = {"dictionary": "ids", "probability": 0.6}
CONFIG = {
    "seed": 20270322,
    "dictionaries": {
        "ids": {"values": [1, 2, 3, 4]},
        "dates": {"values": ["2027-03-22", "2027-03-21", "1900-01-01", "9999-12-31"]},
        "phases": {"values": ["assess", "release", "strengthen", "maintain"]},
    },
    "parameters": {
        "path.id": IDS,
        "path.pk": IDS,
        **{f"query.{name}": IDS for name in ("patient", "appointment")},
        **{f"body.{name}": IDS for name in ("patient", "appointment")},
        "query.from": {"dictionary": "dates", "probability": 0.5},
        "query.to": {"dictionary": "dates", "probability": 0.5},
        "body.cleared_on": {"dictionary": "dates", "probability": 0.5},
        "body.phase": {"dictionary": "phases", "probability": 0.5},
    },
    "generation": {"with-security-parameters": False},
}


def clinical_operations(config: dict):
    schema = schemathesis.openapi.from_dict(
        copy.deepcopy(SPEC),  # each schema its own: schemathesis may resolve it in place
        config=schemathesis.Config.from_dict(config),
    ).include(tag="clinical records")
    schema.app = get_wsgi_application()
    return schema


schema = clinical_operations(CONFIG)
# Refused before the body or the ids are read: the coverage phase's hundreds of boundary
# values per operation would test the permission check hundreds of times.
random_schema = clinical_operations({**CONFIG, "phases": {"coverage": {"enabled": False}}})


@pytest.fixture(autouse=True)
def _in_process_host(settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]


@pytest.fixture
def clinical_records(assessed_patient, myotherapist, myotherapy, location, treatment_rooms):
    """Patient 1 with appointments 1 (assessment) and 2-4 (sessions), notes 1 (signed) and
    2 (draft), plan 1, a pain score and an ODI, intake 1 with red flags."""
    sessions = [
        AppointmentFactory(
            patient=assessed_patient,
            practitioner=myotherapist,
            service=myotherapy,
            location=location,
            room=treatment_rooms[0],
            start=at(TODAY - timedelta(days=days_ago), 10),
            status=Status.COMPLETED,
        )
        for days_ago in (3, 2, 1)
    ]
    signed = start_note(appointment=sessions[0], author=myotherapist)
    update_draft(note=signed, author=myotherapist, changes={"pain_score": 5}, exercises=[])
    sign_note(note=signed, author=myotherapist)
    start_note(appointment=sessions[1], author=myotherapist)
    create_plan(
        patient=assessed_patient,
        practitioner=myotherapist,
        goals="Pain-free running",
        phases=[{"phase": Phase.RELEASE, "planned_sessions": 4, "sessions_per_week": 1}],
    )
    record_pain(patient=assessed_patient, score=6, by=None)
    record_odi(patient=assessed_patient, answers=[2] * 10, by=None)
    submit_intake(
        patient=assessed_patient,
        answers={
            "complaint": "Sciatica",
            "pain_score": 7,
            "duration": "chronic",
            "activity": "new_runner",
            "red_flags": [RedFlag.FEVER],
        },
        entered_by=None,
    )
    return myotherapist.user


@pytest.fixture
def credentials(request, clinical_records, patient_user, reception, manager, as_practitioner):
    user = {
        "anonymous": None,
        "patient": patient_user,
        "reception": reception,
        "practitioner": clinical_records,
        "manager": manager,
    }[request.param]
    return {"Authorization": f"Bearer {AccessToken.for_user(user)}"} if user else {}


# The coverage phase's boundary values as the treating practitioner, who writes the records;
# the manager's input is read the same way: random inputs (and the coverage phase too in CI's
# deep pass).
@pytest.mark.parametrize("credentials", ["practitioner"], indirect=True)
@schema.parametrize()
@drawing(MAX_EXAMPLES)
def test_clinical_answers_are_documented_and_no_server_error(case, credentials):
    case.call_and_validate(headers=credentials, checks=CHECKS)


@pytest.mark.parametrize("credentials", ["manager"], indirect=True)
@(schema if DEEP else random_schema).parametrize()
@drawing(MAX_EXAMPLES)
def test_clinical_answers_to_the_manager_are_documented_and_no_server_error(case, credentials):
    case.call_and_validate(headers=credentials, checks=CHECKS)


@pytest.mark.parametrize("credentials", OTHERS, indirect=True)
@random_schema.parametrize()
@drawing(REFUSED_EXAMPLES)
def test_everyone_else_is_refused_whatever_they_send(case, credentials):
    response = case.call_and_validate(headers=credentials, checks=CHECKS)

    # 404: a path the URL configuration does not match (an id with a dot or a slash).
    assert response.status_code in {403 if credentials else 401, 404}, response.text
