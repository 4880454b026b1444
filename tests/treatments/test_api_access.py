"""Who may use each clinical endpoint of the API: practitioners who treat the patient and
managers read; reception and patients get 403 (a patient only submits their own intake);
another practitioner gets 404 for objects and empty lists."""

from datetime import timedelta

import pytest

from appointments.models import Status
from tests.factories import AppointmentFactory
from tests.fixtures.clinic import TODAY, at
from tests.treatments.api_helpers import (
    INTAKE_ANSWERS,
    INTAKES,
    MY_INTAKE,
    NOTES,
    OUTCOMES,
    PLANS,
    progress_url,
)
from treatments.models import PlanStatus

pytestmark = pytest.mark.usefixtures("frozen_now", "fresh_throttles")

ROLES = [
    "anonymous",
    "as_patient",
    "as_other_patient",
    "as_reception",
    "as_practitioner",
    "as_other_practitioner",
    "as_manager",
]
REFUSED = {"anonymous": 401, "as_patient": 403, "as_other_patient": 403, "as_reception": 403}


def expect(practitioner, other_practitioner, manager):
    return {
        **REFUSED,
        "as_practitioner": practitioner,
        "as_other_practitioner": other_practitioner,
        "as_manager": manager,
    }


# name: (method, path(records, patient), body(records, patient), {role: status})
ENDPOINTS = {
    "list notes": ("get", lambda r, p: NOTES, None, expect(200, 200, 200)),
    "read a note": ("get", lambda r, p: f"{NOTES}{r['signed'].pk}/", None, expect(200, 404, 200)),
    "start a note": (
        "post",
        lambda r, p: NOTES,
        lambda r, p: {"appointment": r["fresh_session"].pk, "subjective": "x"},
        # The other practitioner is not the session's practitioner; a manager writes no notes.
        expect(201, 400, 403),
    ),
    "edit a draft": (
        "patch",
        lambda r, p: f"{NOTES}{r['draft'].pk}/",
        lambda r, p: {"plan": "Release x2"},
        expect(200, 404, 403),
    ),
    "sign a draft": (
        "post",
        lambda r, p: f"{NOTES}{r['draft'].pk}/sign/",
        None,
        expect(200, 404, 403),
    ),
    "add an addendum": (
        "post",
        lambda r, p: f"{NOTES}{r['signed'].pk}/addenda/",
        lambda r, p: {"text": "Correction: right leg."},
        expect(201, 404, 403),
    ),
    "delete a note": (
        "delete",
        lambda r, p: f"{NOTES}{r['draft'].pk}/",
        None,
        expect(405, 405, 405),
    ),
    "list plans": ("get", lambda r, p: PLANS, None, expect(200, 200, 200)),
    "read a plan": ("get", lambda r, p: f"{PLANS}{r['plan'].pk}/", None, expect(200, 404, 200)),
    "start a plan": (
        "post",
        lambda r, p: PLANS,
        # The fixture's plan is completed first (see the test), so a new one may start.
        lambda r, p: {"patient": p.pk, "goals": "Run again"},
        expect(201, 400, 403),
    ),
    "change a plan": (
        "patch",
        lambda r, p: f"{PLANS}{r['plan'].pk}/",
        lambda r, p: {"goals": "Pain-free running and lifting"},
        expect(200, 404, 200),
    ),
    "move a plan": (
        "post",
        lambda r, p: f"{PLANS}{r['plan'].pk}/phase/",
        lambda r, p: {"phase": "release"},
        expect(200, 404, 200),
    ),
    "list outcomes": ("get", lambda r, p: OUTCOMES, None, expect(200, 200, 200)),
    "read an outcome": (
        "get",
        lambda r, p: f"{OUTCOMES}{r['odi'].pk}/",
        None,
        expect(200, 404, 200),
    ),
    "record a pain score": (
        "post",
        lambda r, p: OUTCOMES,
        lambda r, p: {"patient": p.pk, "kind": "pain", "value": 3},
        # A manager reads outcomes; recording one is a clinician's (as in the admin).
        expect(201, 400, 403),
    ),
    "progress": ("get", lambda r, p: progress_url(p), None, expect(200, 404, 200)),
    "list intakes": ("get", lambda r, p: INTAKES, None, expect(200, 200, 200)),
    "read an intake": (
        "get",
        lambda r, p: f"{INTAKES}{r['intake'].pk}/",
        None,
        expect(200, 404, 200),
    ),
    "enter an intake": (
        "post",
        lambda r, p: INTAKES,
        lambda r, p: {**INTAKE_ANSWERS, "patient": p.pk},
        expect(201, 400, 403),
    ),
    "clear red flags": (
        "post",
        lambda r, p: f"{INTAKES}{r['intake'].pk}/clearance/",
        lambda r, p: {"cleared_on": TODAY.isoformat(), "note": "Seen by GP, cleared."},
        # Clearing a red flag is a clinician's act: never a manager's.
        expect(201, 404, 403),
    ),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_who_may_use_each_clinical_endpoint(request, endpoint, role, records, assessed_patient):
    method, path, body, expected = ENDPOINTS[endpoint]
    if endpoint == "start a plan":
        records["plan"].status = PlanStatus.COMPLETED
        records["plan"].save()
    client = request.getfixturevalue(role)

    response = getattr(client, method)(
        path(records, assessed_patient), body(records, assessed_patient) if body else None
    )

    assert response.status_code == expected[role], response.content
    if response.status_code >= 400:
        assert "code" in response.json()
        assert b"Ari" not in response.content and b"Assessed" not in response.content
    if endpoint.startswith("list") and response.status_code == 200:
        count = response.json()["count"]
        assert count == 0 if role == "as_other_practitioner" else count > 0


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 401),
        ("as_reception", 403),
        ("as_practitioner", 403),
        ("as_manager", 403),
        ("as_patient", 201),
        ("as_other_patient", 201),
    ],
)
def test_only_patients_submit_their_own_intake(request, role, expected):
    response = request.getfixturevalue(role).post(MY_INTAKE, INTAKE_ANSWERS)

    assert response.status_code == expected, response.content


def test_a_practitioner_who_starts_treating_a_patient_sees_their_records(
    records, as_other_practitioner, second_myotherapist, assessed_patient, myotherapy, location
):
    assert as_other_practitioner.get(f"{NOTES}{records['signed'].pk}/").status_code == 404

    AppointmentFactory(
        patient=assessed_patient,
        practitioner=second_myotherapist,
        service=myotherapy,
        location=location,
        start=at(TODAY + timedelta(days=2), 14),
        status=Status.BOOKED,
    )

    assert as_other_practitioner.get(f"{NOTES}{records['signed'].pk}/").status_code == 200
    assert as_other_practitioner.get(NOTES).json()["count"] == 2
