"""Clinical records over HTTP: treatment notes, plans, outcome measures, progress, intake.

Who may: practitioners who treat the patient and managers read; reception and patients get
403 (a patient only submits their own intake); another practitioner gets 404 for objects and
empty lists. Notes are written by practitioners for their own sessions, and a signed note
is final.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments.models import Status
from tests.factories import AppointmentFactory, PatientFactory
from tests.fixtures.clinic import TODAY, at
from treatments.models import (
    ExerciseEntry,
    Intake,
    MeasureKind,
    OutcomeMeasure,
    Phase,
    PlanStatus,
    RedFlag,
    TreatmentNote,
)
from treatments.selectors import open_red_flags_by_patient
from treatments.services import (
    add_addendum,
    clear_red_flags,
    create_plan,
    move_plan_to_phase,
    record_odi,
    record_pain,
    sign_note,
    start_note,
    submit_intake,
    update_draft,
)

pytestmark = pytest.mark.usefixtures("frozen_now", "fresh_throttles")

NOTES = "/api/v1/treatment-notes/"
PLANS = "/api/v1/treatment-plans/"
OUTCOMES = "/api/v1/outcome-measures/"
INTAKES = "/api/v1/intakes/"
MY_INTAKE = "/api/v1/patients/me/intake/"

EXERCISES = [
    {
        "exercise": "Goblet squat",
        "sets": 3,
        "reps": 10,
        "load_kg": 16,
        "effort": 6,
        "guarded": False,
        "comment": "",
    },
    {
        "exercise": "Romanian deadlift",
        "sets": 3,
        "reps": 8,
        "load_kg": "30.5",
        "effort": 7,
        "guarded": True,
        "comment": "Stopped short of full range",
    },
]
INTAKE_ANSWERS = {
    "complaint": "Lower back pain radiating to the left leg",
    "symptom_locations": ["lower_back", "leg_left"],
    "sciatica_symptoms": ["pins_and_needles", "sharp_pain_down_leg"],
    "pain_score": 7,
    "duration": "chronic",
    "activity": "new_runner",
    "goals": "Run a half marathon pain-free",
}
ODI_ONE_UNANSWERED = [2, 1, 3, 2, 1, 1, 0, None, 1, 3]  # 14 / 45 = 31.1 %


def progress_url(patient) -> str:
    return f"/api/v1/patients/{patient.pk}/progress/"


def session_of(patient, practitioner, myotherapy, location, room, days_ago, hour=10, **extra):
    """A completed session `days_ago` days before the frozen today."""
    return AppointmentFactory(
        patient=patient,
        practitioner=practitioner,
        service=myotherapy,
        location=location,
        room=room,
        start=at(TODAY - timedelta(days=days_ago), hour),
        **extra,
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


# --- who may what ----------------------------------------------------------------------

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


# --- treatment notes -------------------------------------------------------------------


class TestNotes:
    def test_a_practitioner_starts_the_note_of_their_session(
        self, as_practitioner, sessions, myotherapist, assessed_patient
    ):
        response = as_practitioner.post(
            NOTES,
            {
                "appointment": sessions[0].pk,
                "subjective": "Sharp pain down the left leg after running.",
                "pain_score": 6,
                "pain_locations": ["buttock_left", "leg_left"],
                "posture_findings": ["anterior_pelvic_tilt", "tight_hip_flexors"],
                "regions_treated": ["piriformis", "gemelli"],
                "assessment": "Piriformis involvement.",
                "plan": "Release x3, then NMPT.",
                "exercises": EXERCISES,
            },
        )

        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["status"] == "draft" and body["signed_at"] is None
        assert body["author"] == {"id": myotherapist.pk, "name": "Mia Myo"}
        assert body["patient"] == {"id": assessed_patient.pk, "name": "Ari Assessed"}
        assert body["appointment"]["id"] == sessions[0].pk
        assert body["appointment"]["start"] == "2027-03-21T10:00:00+11:00"
        assert body["pain_locations"] == ["buttock_left", "leg_left"]
        assert [e["exercise"] for e in body["exercises"]] == ["Goblet squat", "Romanian deadlift"]
        assert body["exercises"][1]["load_kg"] == 30.5 and body["exercises"][1]["guarded"]
        assert body["addenda"] == []

    def test_author_patient_and_signing_are_not_taken_from_the_body(
        self,
        as_practitioner,
        sessions,
        myotherapist,
        second_myotherapist,
        other_patient_user,
        assessed_patient,
    ):
        response = as_practitioner.post(
            NOTES,
            {
                "appointment": sessions[0].pk,
                "id": 999,
                "author": second_myotherapist.pk,
                "patient": other_patient_user.patient.pk,
                "signed_at": "2027-03-21T11:00:00+11:00",
                "status": "signed",
                "created_at": "2020-01-01T00:00:00+11:00",
            },
        )

        assert response.status_code == 201, response.json()
        note = TreatmentNote.objects.get()
        assert response.json()["id"] == note.pk
        assert note.author == myotherapist and note.signed_at is None
        assert note.appointment.patient == assessed_patient
        assert note.created_at.year == 2027

    def test_only_for_sessions_of_ones_own(
        self,
        as_practitioner,
        assessed_patient,
        second_myotherapist,
        myotherapy,
        location,
        treatment_rooms,
    ):
        colleagues = session_of(
            assessed_patient, second_myotherapist, myotherapy, location, treatment_rooms[1], 1
        )

        response = as_practitioner.post(NOTES, {"appointment": colleagues.pk})

        assert response.status_code == 400
        assert "appointment" in response.json()["fields"]
        assert not TreatmentNote.objects.exists()

    def test_one_note_per_session(self, as_practitioner, signed):
        response = as_practitioner.post(NOTES, {"appointment": signed.appointment_id})

        assert response.status_code == 409
        assert response.json()["code"] == "note_exists"

    def test_a_refused_start_leaves_nothing_behind(self, as_practitioner, sessions):
        response = as_practitioner.post(
            NOTES,
            {"appointment": sessions[0].pk, "exercises": [{**EXERCISES[0], "effort": 11}]},
        )

        assert response.status_code == 400
        assert response.json()["fields"] == {
            "exercises.0.effort": ["Ensure this value is less than or equal to 10."]
        }
        assert not TreatmentNote.objects.exists()

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"pain_locations": ["lower_back", "knee"]}, "pain_locations.1"),
            ({"posture_findings": ["slouching"]}, "posture_findings.0"),
            ({"regions_treated": "piriformis"}, "regions_treated"),
            ({"regions_treated": ["piriformis", "piriformis"]}, "regions_treated"),
            ({"pain_score": 11}, "pain_score"),
            ({"exercises": [{"exercise": "Squat", "sets": 3, "reps": 5}]}, "exercises.0.effort"),
            ({"exercises": [{**EXERCISES[0], "load_kg": -5}]}, "exercises.0.load_kg"),
            ({"exercises": [{**EXERCISES[0], "sets": 51}]}, "exercises.0.sets"),
            ({"subjective": "nul \x00 byte"}, "subjective"),
        ],
    )
    def test_invalid_answers_name_the_field(self, as_practitioner, draft, changes, field):
        response = as_practitioner.patch(f"{NOTES}{draft.pk}/", changes)

        assert response.status_code == 400, response.json()
        assert response.json()["code"] == "invalid"
        assert list(response.json()["fields"]) == [field]

    def test_the_author_edits_a_draft_and_replaces_its_exercise_log(self, as_practitioner, draft):
        response = as_practitioner.patch(
            f"{NOTES}{draft.pk}/",
            {"plan": "Release x2", "regions_treated": ["piriformis"], "exercises": EXERCISES},
        )
        assert response.status_code == 200, response.json()
        assert response.json()["subjective"] == "Sore after the run."  # untouched
        assert response.json()["plan"] == "Release x2"

        response = as_practitioner.patch(f"{NOTES}{draft.pk}/", {"exercises": EXERCISES[1:]})
        assert [e["exercise"] for e in response.json()["exercises"]] == ["Romanian deadlift"]
        assert ExerciseEntry.objects.filter(note=draft).count() == 1

    def test_signing_is_not_a_field(self, as_practitioner, draft):
        response = as_practitioner.patch(
            f"{NOTES}{draft.pk}/",
            {"signed_at": "2027-03-21T11:00:00+11:00", "status": "signed", "author": 99},
        )

        assert response.status_code == 200
        draft.refresh_from_db()
        assert draft.signed_at is None

    def test_only_the_author_edits_or_signs_a_draft(
        self, draft, as_other_practitioner, second_myotherapist, assessed_patient, myotherapy
    ):
        # The colleague treats the patient too, so they can read the note.
        session_of(
            assessed_patient,
            second_myotherapist,
            myotherapy,
            draft.appointment.location,
            draft.appointment.room,
            5,
        )

        edit = as_other_practitioner.patch(f"{NOTES}{draft.pk}/", {"plan": "Mine now"})
        sign = as_other_practitioner.post(f"{NOTES}{draft.pk}/sign/")

        assert (edit.status_code, edit.json()["code"]) == (409, "not_the_author")
        assert (sign.status_code, sign.json()["code"]) == (409, "not_the_author")
        draft.refresh_from_db()
        assert draft.plan == "" and draft.signed_at is None

    def test_signing_through_the_api(self, as_practitioner, draft, assessed_patient):
        as_practitioner.patch(f"{NOTES}{draft.pk}/", {"pain_score": 5})

        response = as_practitioner.post(f"{NOTES}{draft.pk}/sign/")

        assert response.status_code == 200, response.json()
        assert response.json()["status"] == "signed"
        assert response.json()["signed_at"] is not None
        draft.refresh_from_db()
        assert draft.is_signed
        pain = OutcomeMeasure.objects.get(patient=assessed_patient, appointment=draft.appointment)
        assert pain.kind == MeasureKind.PAIN and pain.value == 5

        again = as_practitioner.post(f"{NOTES}{draft.pk}/sign/")
        assert (again.status_code, again.json()["code"]) == (409, "note_signed")

    def test_a_signed_note_cannot_be_edited(self, as_practitioner, signed):
        response = as_practitioner.patch(
            f"{NOTES}{signed.pk}/", {"plan": "Rewritten history", "exercises": []}
        )

        assert response.status_code == 409
        assert response.json()["code"] == "note_signed"
        signed.refresh_from_db()
        assert signed.plan == "NMPT next."
        assert signed.exercises.count() == 2

    @pytest.mark.parametrize("method", ["delete", "put"])
    def test_notes_are_never_deleted_or_replaced(self, as_practitioner, signed, draft, method):
        for note in (signed, draft):
            response = getattr(as_practitioner, method)(f"{NOTES}{note.pk}/", {"plan": "x"})

            assert response.status_code == 405
            assert response.json()["code"] == "method_not_allowed"
        assert TreatmentNote.objects.count() == 2

    def test_addenda_amend_a_signed_note_and_keep_the_original(self, as_practitioner, signed):
        response = as_practitioner.post(
            f"{NOTES}{signed.pk}/addenda/", {"text": "  Correction: right leg, not left. "}
        )

        assert response.status_code == 201, response.json()
        addendum = response.json()
        assert addendum["author"]["name"] == "Mia Myo"
        assert addendum["text"] == "Correction: right leg, not left."
        assert addendum["created_at"].startswith("2027-03-2")
        note = as_practitioner.get(f"{NOTES}{signed.pk}/").json()
        assert note["addenda"] == [addendum]
        assert note["plan"] == "NMPT next." and note["status"] == "signed"

    def test_drafts_take_no_addenda_and_addenda_need_text(self, as_practitioner, draft, signed):
        on_draft = as_practitioner.post(f"{NOTES}{draft.pk}/addenda/", {"text": "x"})
        blank = as_practitioner.post(f"{NOTES}{signed.pk}/addenda/", {"text": "   "})

        assert (on_draft.status_code, on_draft.json()["code"]) == (409, "note_not_signed")
        assert blank.status_code == 400 and "text" in blank.json()["fields"]

    def test_filters(self, as_practitioner, signed, draft, assessed_patient):
        def ids(**query):
            response = as_practitioner.get(NOTES, query)
            assert response.status_code == 200, response.json()
            return [note["id"] for note in response.json()["results"]]

        assert ids() == [signed.pk, draft.pk]  # latest session first
        assert ids(signed="true") == [signed.pk]
        assert ids(signed="false") == [draft.pk]
        assert ids(appointment=draft.appointment_id) == [draft.pk]
        assert ids(patient=assessed_patient.pk) == [signed.pk, draft.pk]
        assert ids(patient=assessed_patient.pk + 1000) == []
        yesterday = (TODAY - timedelta(days=1)).isoformat()
        assert ids(**{"from": yesterday}) == [signed.pk]
        assert ids(to=(TODAY - timedelta(days=2)).isoformat()) == [draft.pk]
        assert as_practitioner.get(NOTES, {"from": "2027-13-01"}).status_code == 400


# --- treatment plans -------------------------------------------------------------------


class TestPlans:
    def test_a_practitioner_starts_a_plan_with_its_phases(
        self, as_practitioner, assessed_patient, myotherapist, second_myotherapist
    ):
        response = as_practitioner.post(
            PLANS,
            {
                "patient": assessed_patient.pk,
                "goals": "Pain-free running",
                "maintenance_interval_weeks": 4,
                "phases": [
                    {"phase": "assess", "planned_sessions": 1, "sessions_per_week": 1},
                    {"phase": "release", "planned_sessions": 4, "sessions_per_week": "1.0"},
                    {"phase": "maintain", "planned_sessions": 6, "sessions_per_week": 0.2},
                ],
                # Not the client's to set:
                "practitioner": second_myotherapist.pk,
                "status": "completed",
                "current_phase": "maintain",
                "maintenance_started_at": "2027-01-01T00:00:00+11:00",
            },
        )

        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["practitioner"]["id"] == myotherapist.pk
        assert body["status"] == "active" and body["current_phase"] == "assess"
        assert body["maintenance_started_at"] is None
        assert body["maintenance_interval_weeks"] == 4
        assert [p["phase"] for p in body["phases"]] == ["assess", "release", "maintain"]
        assert body["phases"][2]["sessions_per_week"] == 0.2

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            (
                {
                    "phases": [{"phase": "assess", "planned_sessions": 1, "sessions_per_week": 1}]
                    * 2
                },
                "phases",
            ),
            (
                {"phases": [{"phase": "rest", "planned_sessions": 1, "sessions_per_week": 1}]},
                "phases.0.phase",
            ),
            (
                {"phases": [{"phase": "assess", "planned_sessions": 1, "sessions_per_week": 9}]},
                "phases.0.sessions_per_week",
            ),
            ({"maintenance_interval_weeks": 0}, "maintenance_interval_weeks"),
            ({"goals": ""}, "goals"),
        ],
    )
    def test_invalid_plans_name_the_field(self, as_practitioner, assessed_patient, body, field):
        response = as_practitioner.post(
            PLANS, {"patient": assessed_patient.pk, "goals": "Run", **body}
        )

        assert response.status_code == 400, response.json()
        assert list(response.json()["fields"]) == [field]

    def test_one_active_plan_per_patient(self, as_practitioner, plan, assessed_patient):
        response = as_practitioner.post(PLANS, {"patient": assessed_patient.pk, "goals": "b"})

        assert (response.status_code, response.json()["code"]) == (409, "plan_active")

    def test_a_plan_moves_along_the_pathway(self, as_practitioner, plan):
        as_practitioner.post(f"{PLANS}{plan.pk}/phase/", {"phase": "release"})
        response = as_practitioner.post(f"{PLANS}{plan.pk}/phase/", {"phase": "maintain"})

        assert response.status_code == 200, response.json()
        body = response.json()
        assert body["current_phase"] == "maintain"
        assert body["maintenance_started_at"] is not None
        phases = {p["phase"]: p for p in body["phases"]}
        assert phases["release"]["started_on"] == TODAY.isoformat()
        assert phases["release"]["ended_on"] == TODAY.isoformat()
        assert phases["maintain"]["started_on"] == TODAY.isoformat()
        assert phases["maintain"]["ended_on"] is None

        bad = as_practitioner.post(f"{PLANS}{plan.pk}/phase/", {"phase": "relax"})
        assert bad.status_code == 400 and "phase" in bad.json()["fields"]

    def test_a_plan_is_changed_and_closed_but_never_reopened(self, as_practitioner, plan):
        response = as_practitioner.patch(
            f"{PLANS}{plan.pk}/",
            {
                "goals": "Pain-free running and lifting",
                "maintenance_interval_weeks": 8,
                "current_phase": "maintain",
                "patient": 12345,
            },
        )
        assert response.status_code == 200, response.json()
        assert response.json()["goals"] == "Pain-free running and lifting"
        assert response.json()["maintenance_interval_weeks"] == 8
        assert response.json()["current_phase"] == "assess"

        closed = as_practitioner.patch(f"{PLANS}{plan.pk}/", {"status": "completed"})
        assert closed.json()["status"] == "completed"

        reopened = as_practitioner.patch(f"{PLANS}{plan.pk}/", {"status": "active"})
        assert (reopened.status_code, reopened.json()["code"]) == (409, "plan_closed")
        moved = as_practitioner.post(f"{PLANS}{plan.pk}/phase/", {"phase": "release"})
        assert (moved.status_code, moved.json()["code"]) == (409, "invalid_phase")
        plan.refresh_from_db()
        assert plan.status == PlanStatus.COMPLETED and plan.current_phase == Phase.ASSESS

    def test_filters(self, as_manager, plan, assessed_patient, myotherapist):
        plan.status = PlanStatus.DISCONTINUED
        plan.save()
        newer = create_plan(
            patient=assessed_patient, practitioner=myotherapist, goals="Again", phases=[]
        )

        def ids(**query):
            return [p["id"] for p in as_manager.get(PLANS, query).json()["results"]]

        assert ids() == [newer.pk, plan.pk]
        assert ids(status="active") == [newer.pk]
        assert ids(patient=assessed_patient.pk, status="discontinued") == [plan.pk]
        assert as_manager.get(PLANS, {"status": "paused"}).status_code == 400


# --- outcome measures ------------------------------------------------------------------


class TestOutcomeMeasures:
    def test_a_pain_score(self, as_practitioner, assessed_patient, myotherapist):
        response = as_practitioner.post(
            OUTCOMES, {"patient": assessed_patient.pk, "kind": "pain", "value": 7}
        )

        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["kind"] == "pain" and body["value"] == 7 and body["odi_answers"] is None
        assert body["recorded_at"] == "2027-03-22T08:00:00+11:00"
        assert body["recorded_by"] == "Mia Myo"

    def test_the_odi_is_scored_by_the_server(self, as_practitioner, assessed_patient):
        response = as_practitioner.post(
            OUTCOMES,
            {
                "patient": assessed_patient.pk,
                "kind": "odi",
                "odi_answers": ODI_ONE_UNANSWERED,
                "recorded_at": "2027-03-15T09:30:00+11:00",
            },
        )

        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["value"] == 31.1
        assert body["odi_answers"] == ODI_ONE_UNANSWERED
        assert body["recorded_at"] == "2027-03-15T09:30:00+11:00"
        assert OutcomeMeasure.objects.get().value == Decimal("31.1")

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            # The score of an ODI is the server's to compute, whatever the client says.
            ({"kind": "odi", "odi_answers": ODI_ONE_UNANSWERED, "value": 0}, "value"),
            ({"kind": "odi"}, "odi_answers"),
            ({"kind": "odi", "odi_answers": [1] * 9}, "odi_answers"),
            ({"kind": "odi", "odi_answers": [6] + [0] * 9}, "odi_answers.0"),
            ({"kind": "odi", "odi_answers": [1] * 7 + [None] * 3}, "odi_answers"),
            ({"kind": "pain"}, "value"),
            ({"kind": "pain", "value": 11}, "value"),
            ({"kind": "pain", "value": 3, "odi_answers": [1] * 10}, "odi_answers"),
            (
                {"kind": "pain", "value": 3, "recorded_at": "2027-03-23T09:00:00+11:00"},
                "recorded_at",
            ),
            ({"kind": "mood", "value": 3}, "kind"),
        ],
    )
    def test_refused_measures(self, as_practitioner, assessed_patient, body, field):
        response = as_practitioner.post(OUTCOMES, {"patient": assessed_patient.pk, **body})

        assert response.status_code == 400, response.json()
        assert list(response.json()["fields"]) == [field]
        assert not OutcomeMeasure.objects.exists()

    def test_outcomes_are_never_changed_or_deleted(self, as_practitioner, odi):
        for method in ("patch", "put", "delete"):
            response = getattr(as_practitioner, method)(f"{OUTCOMES}{odi.pk}/", {"value": 0})
            assert response.status_code == 405

        odi.refresh_from_db()
        assert odi.value == Decimal("31.1")

    def test_filters(self, as_practitioner, odi, assessed_patient):
        pain = record_pain(patient=assessed_patient, score=5, by=None)

        def ids(**query):
            return [m["id"] for m in as_practitioner.get(OUTCOMES, query).json()["results"]]

        assert ids() == [odi.pk, pain.pk]  # oldest first
        assert ids(kind="pain") == [pain.pk]
        assert ids(kind="odi", patient=assessed_patient.pk) == [odi.pk]


# --- progress --------------------------------------------------------------------------


class TestProgress:
    def test_the_series_and_the_phases(self, as_practitioner, assessed_patient, plan):
        for days_ago, score in ((3, 6), (10, 8), (1, 4)):  # recorded out of order
            record_pain(
                patient=assessed_patient,
                score=score,
                by=None,
                recorded_at=at(TODAY - timedelta(days=days_ago), 10),
            )
        record_odi(
            patient=assessed_patient,
            answers=[5] * 10,
            by=None,
            recorded_at=at(TODAY - timedelta(days=40), 10),
        )
        record_odi(
            patient=assessed_patient,
            answers=ODI_ONE_UNANSWERED,
            by=None,
            recorded_at=at(TODAY - timedelta(days=2), 10),
        )
        move_plan_to_phase(plan=plan, phase=Phase.RELEASE, by=None)
        record_pain(patient=PatientFactory(), score=9, by=None)  # someone else's

        response = as_practitioner.get(progress_url(assessed_patient))

        assert response.status_code == 200, response.json()
        assert response.json() == {
            "pain": [
                {"at": "2027-03-12T10:00:00+11:00", "value": 8.0},
                {"at": "2027-03-19T10:00:00+11:00", "value": 6.0},
                {"at": "2027-03-21T10:00:00+11:00", "value": 4.0},
            ],
            "odi": [
                {"at": "2027-02-10T10:00:00+11:00", "value": 100.0},
                {"at": "2027-03-20T10:00:00+11:00", "value": 31.1},
            ],
            "phases": [
                {"phase": "assess", "started_on": "2027-03-22", "ended_on": "2027-03-22"},
                {"phase": "release", "started_on": "2027-03-22", "ended_on": None},
            ],
        }

    def test_empty_for_a_patient_without_records(self, as_manager, other_patient_user):
        response = as_manager.get(progress_url(other_patient_user.patient))

        assert response.json() == {"pain": [], "odi": [], "phases": []}

    def test_a_patient_nobody_may_see_is_404(self, as_manager, as_practitioner, new_patient):
        assert as_manager.get("/api/v1/patients/987654/progress/").status_code == 404
        # A patient the practitioner has never treated:
        assert as_practitioner.get(progress_url(new_patient)).status_code == 404


# --- intake and red flags --------------------------------------------------------------


class TestIntake:
    def test_a_patient_submits_their_intake_with_red_flags(
        self, as_patient, assessed_patient, patient_user, other_patient_user
    ):
        response = as_patient.post(
            MY_INTAKE,
            {
                **INTAKE_ANSWERS,
                "red_flags": ["saddle_numbness", "fever"],
                # Not the patient's to set:
                "patient": other_patient_user.patient.pk,
                "entered_by": 1,
                "submitted_at": "2020-01-01T00:00:00+11:00",
                "clearance": {"cleared_on": "2027-03-22", "note": "self-cleared"},
            },
        )

        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["red_flags"] == ["saddle_numbness", "fever"]
        assert "clearance" not in body and "patient" not in body
        intake = Intake.objects.get()
        assert intake.patient == assessed_patient and intake.entered_by == patient_user
        assert not hasattr(intake, "clearance")
        assert open_red_flags_by_patient([assessed_patient.pk]) == {
            assessed_patient.pk: ["saddle_numbness", "fever"]
        }

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"red_flags": ["headache"]}, "red_flags.0"),
            ({"symptom_locations": ["knee"]}, "symptom_locations.0"),
            ({"pain_score": -1}, "pain_score"),
            ({"duration": "forever"}, "duration"),
            ({"complaint": ""}, "complaint"),
        ],
    )
    def test_invalid_intake_answers_name_the_field(self, as_patient, change, field):
        response = as_patient.post(MY_INTAKE, {**INTAKE_ANSWERS, **change})

        assert response.status_code == 400
        assert list(response.json()["fields"]) == [field]
        assert not Intake.objects.exists()

    def test_the_practitioner_sees_and_clears_the_red_flags(
        self, as_patient, as_practitioner, as_reception, assessed_patient, patient_user
    ):
        as_patient.post(MY_INTAKE, {**INTAKE_ANSWERS, "red_flags": ["bladder_bowel_change"]})
        [listed] = as_practitioner.get(INTAKES, {"patient": assessed_patient.pk}).json()["results"]
        assert listed["red_flags"] == ["bladder_bowel_change"]
        assert listed["red_flags_open"] is True and listed["clearance"] is None
        assert listed["entered_by"] == patient_user.get_full_name()
        clearance = f"{INTAKES}{listed['id']}/clearance/"
        body = {"cleared_on": TODAY.isoformat(), "note": "Seen by GP: no cauda equina signs."}

        assert as_reception.post(clearance, body).status_code == 403
        response = as_practitioner.post(clearance, body)

        assert response.status_code == 201, response.json()
        assert response.json()["red_flags_open"] is False
        assert response.json()["clearance"]["cleared_on"] == TODAY.isoformat()
        assert response.json()["clearance"]["cleared_by"] == "Mia Myo"
        assert open_red_flags_by_patient([assessed_patient.pk]) == {}
        again = as_practitioner.post(clearance, body)
        assert (again.status_code, again.json()["code"]) == (409, "red_flags_clear")

    def test_nothing_to_clear_and_no_clearance_in_the_future(
        self, as_practitioner, assessed_patient, intake, myotherapist
    ):
        # Nothing open up to the calm intake: the earlier flags are cleared already.
        clear_red_flags(intake=intake, cleared_by=myotherapist.user, cleared_on=TODAY, note="GP")
        calm = submit_intake(
            patient=assessed_patient, answers={**INTAKE_ANSWERS, "red_flags": []}, entered_by=None
        )
        body = {"cleared_on": TODAY.isoformat(), "note": "GP ok"}

        nothing = as_practitioner.post(f"{INTAKES}{calm.pk}/clearance/", body)
        future = as_practitioner.post(
            f"{INTAKES}{intake.pk}/clearance/",
            {**body, "cleared_on": (TODAY + timedelta(days=1)).isoformat()},
        )
        blank = as_practitioner.post(f"{INTAKES}{intake.pk}/clearance/", {**body, "note": " "})

        assert (nothing.status_code, nothing.json()["code"]) == (409, "red_flags_clear")
        assert future.status_code == 400 and "cleared_on" in future.json()["fields"]
        assert blank.status_code == 400 and "note" in blank.json()["fields"]

    def test_staff_enter_an_intake_for_a_patient_they_treat(
        self, as_practitioner, assessed_patient, myotherapist, new_patient
    ):
        response = as_practitioner.post(
            INTAKES, {**INTAKE_ANSWERS, "patient": assessed_patient.pk, "red_flags": ["fever"]}
        )
        untreated = as_practitioner.post(INTAKES, {**INTAKE_ANSWERS, "patient": new_patient.pk})

        assert response.status_code == 201, response.json()
        assert response.json()["patient"]["id"] == assessed_patient.pk
        assert response.json()["entered_by"] == "Mia Myo"
        assert response.json()["red_flags_open"] is True
        assert untreated.status_code == 400 and "patient" in untreated.json()["fields"]


class TestRedFlagMarker:
    """`open_red_flags_by_patient`: what the appointment view shows practitioners."""

    def test_many_patients_in_one_query(
        self,
        assessed_patient,
        other_patient,
        new_patient,
        myotherapist,
        myotherapy,
        location,
        treatment_rooms,
        django_assert_num_queries,
    ):
        # The practitioner who clears the other patient's flags treats them.
        session_of(other_patient, myotherapist, myotherapy, location, treatment_rooms[0], 1)
        flagged = submit_intake(
            patient=assessed_patient, answers={**INTAKE_ANSWERS, "red_flags": []}, entered_by=None
        )
        submit_intake(  # a later intake adds its flags
            patient=assessed_patient,
            answers={**INTAKE_ANSWERS, "red_flags": ["fever", "recent_trauma"]},
            entered_by=None,
        )
        cleared = submit_intake(
            patient=other_patient,
            answers={**INTAKE_ANSWERS, "red_flags": ["fever"]},
            entered_by=None,
        )
        clear_red_flags(intake=cleared, cleared_by=myotherapist.user, cleared_on=TODAY, note="ok")
        assert flagged.red_flags == []

        with django_assert_num_queries(1):
            marked = open_red_flags_by_patient(
                [assessed_patient.pk, other_patient.pk, new_patient.pk]
            )

        assert marked == {assessed_patient.pk: ["fever", "recent_trauma"]}

    def test_no_patients_no_query(self, db, django_assert_num_queries):
        with django_assert_num_queries(0):
            assert open_red_flags_by_patient([]) == {}


# --- query counts ----------------------------------------------------------------------


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
