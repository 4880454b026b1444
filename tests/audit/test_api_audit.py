"""The HTTP API writes the audit log: every read of a patient's demographics or clinical
records (one entry per record shown), every change (with the names of the fields changed,
never their values), each in the transaction of the change."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import Action, AuditEntry
from tests.factories import AppointmentFactory, PatientFactory
from tests.fixtures.clinic import TODAY, at
from treatments.models import Phase, TreatmentNote
from treatments.services import create_plan, record_pain, sign_note, start_note, submit_intake

NOTES = "/api/v1/treatment-notes/"


def entries(**filters) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(**filters).order_by("pk"))


@pytest.fixture
def session(assessed_patient, myotherapist, myotherapy, location, treatment_rooms):
    return AppointmentFactory(
        patient=assessed_patient,
        practitioner=myotherapist,
        service=myotherapy,
        location=location,
        room=treatment_rooms[0],
        start=at(TODAY - timedelta(days=1), 10),
    )


@pytest.fixture
def draft(session, myotherapist):
    return start_note(appointment=session, author=myotherapist)


class TestReads:
    def test_a_search_writes_one_read_per_patient_shown_in_one_insert(self, as_reception):
        PatientFactory.create_batch(3)

        with CaptureQueriesContext(connection) as captured:
            response = as_reception.get("/api/v1/patients/", {"page_size": 2})

        shown = [row["id"] for row in response.json()["results"]]
        reads = entries(action=Action.READ)
        assert sorted(entry.patient_id for entry in reads) == sorted(shown)
        assert {(e.actor_label, e.actor_role) for e in reads} == {
            ("front@clinic.example", "reception")
        }
        assert reads[0].source_ip == "127.0.0.1"
        assert reads[0].detail == {"path": "/api/v1/patients/"}
        inserts = [q for q in captured if q["sql"].startswith('INSERT INTO "audit_auditentry"')]
        assert len(inserts) == 1

    def test_one_patient(self, as_reception, patient):
        as_reception.get(f"/api/v1/patients/{patient.pk}/")

        [entry] = entries()
        assert (entry.action, entry.object_type, entry.object_id, entry.patient_id) == (
            Action.READ,
            "patients.patient",
            str(patient.pk),
            patient.pk,
        )

    def test_a_patient_reading_their_profile(self, as_patient, patient_user, assessed_patient):
        as_patient.get("/api/v1/patients/me/")

        [entry] = entries()
        assert (entry.actor, entry.actor_role, entry.patient) == (
            patient_user,
            "patient",
            assessed_patient,
        )

    def test_a_list_of_notes_names_each_notes_patient(
        self, as_practitioner, draft, assessed_patient
    ):
        as_practitioner.get(NOTES)

        [entry] = entries()
        assert (entry.object_type, entry.object_id, entry.patient_id, entry.actor_role) == (
            "treatments.treatmentnote",
            str(draft.pk),
            assessed_patient.pk,
            "practitioner",
        )

    def test_the_progress_chart_is_a_read_of_the_patients_record(
        self, as_manager, assessed_patient
    ):
        record_pain(patient=assessed_patient, score=5, by=None)

        as_manager.get(f"/api/v1/patients/{assessed_patient.pk}/progress/")

        [entry] = entries()
        assert (entry.action, entry.patient, entry.actor_role) == (
            Action.READ,
            assessed_patient,
            "manager",
        )
        assert entry.detail["path"].endswith("/progress/")

    def test_what_is_not_shown_is_not_logged(self, as_other_practitioner, draft, as_reception):
        assert as_other_practitioner.get(f"{NOTES}{draft.pk}/").status_code == 404
        assert as_reception.get(NOTES).status_code == 403

        assert entries() == []


class TestChanges:
    def test_a_profile_change_names_the_fields_not_their_values(self, as_patient):
        response = as_patient.patch(
            "/api/v1/patients/me/", {"phone": "0498 765 432", "consent_sms": True}
        )

        assert response.status_code == 200
        [entry] = entries()
        assert entry.action == Action.UPDATE
        assert {"phone", "consent_sms"} <= set(entry.detail["fields"])
        assert "498" not in str(entry.detail)

    def test_a_note_started_edited_signed_and_amended(self, as_practitioner, session):
        note = as_practitioner.post(NOTES, {"appointment": session.pk}, format="json").json()
        as_practitioner.patch(
            f"{NOTES}{note['id']}/", {"subjective": "Sharp pain, left leg"}, format="json"
        )
        as_practitioner.post(f"{NOTES}{note['id']}/sign/")
        addendum = as_practitioner.post(
            f"{NOTES}{note['id']}/addenda/", {"text": "Right leg, not left."}, format="json"
        ).json()

        logged = [(e.action, e.object_type, e.detail.get("fields")) for e in entries()]
        assert logged == [
            (Action.CREATE, "treatments.treatmentnote", None),
            (Action.UPDATE, "treatments.treatmentnote", ["subjective"]),
            (Action.UPDATE, "treatments.treatmentnote", ["signed_at", "status"]),
            (Action.CREATE, "treatments.addendum", None),
        ]
        assert entries()[-1].object_id == str(addendum["id"])
        assert {e.patient_id for e in entries()} == {session.patient_id}

    def test_a_clearance_and_a_phase_move(self, as_practitioner, assessed_patient, myotherapist):
        intake = submit_intake(
            patient=assessed_patient,
            answers={
                "complaint": "Leg weakness",
                "pain_score": 8,
                "duration": "acute",
                "activity": "sedentary",
                "red_flags": ["leg_weakness_episodes"],
            },
            entered_by=None,
        )
        plan = create_plan(
            patient=assessed_patient, practitioner=myotherapist, goals="Walk", phases=[]
        )

        as_practitioner.post(
            f"/api/v1/intakes/{intake.pk}/clearance/",
            {"cleared_on": TODAY.isoformat(), "note": "GP: fine"},
            format="json",
        )
        as_practitioner.post(
            f"/api/v1/treatment-plans/{plan.pk}/phase/", {"phase": Phase.RELEASE}, format="json"
        )

        clearance, move = entries()
        assert (clearance.action, clearance.object_type) == (Action.UPDATE, "treatments.intake")
        assert "clearance" in clearance.detail["fields"]
        assert (move.action, move.object_type) == (Action.UPDATE, "treatments.treatmentplan")
        assert "current_phase" in move.detail["fields"]

    def test_a_patients_own_intake(self, as_patient, assessed_patient):
        as_patient.post(
            "/api/v1/patients/me/intake/",
            {"complaint": "Back", "pain_score": 3, "duration": "acute", "activity": "sedentary"},
            format="json",
        )

        [entry] = entries()
        assert (entry.action, entry.object_type, entry.patient, entry.actor_role) == (
            Action.CREATE,
            "treatments.intake",
            assessed_patient,
            "patient",
        )

    def test_a_registration_is_created_by_the_new_patient(self, db, anonymous):
        anonymous.post(
            "/api/v1/auth/register/",
            {
                "email": "new@example.com",
                "password": "correct horse battery staple",
                "first_name": "Nia",
                "last_name": "New",
                "phone": "0412 345 678",
                "date_of_birth": "1990-01-01",
            },
            format="json",
        )

        [entry] = entries()
        assert (entry.action, entry.actor_label, entry.actor_role) == (
            Action.CREATE,
            "new@example.com",
            "patient",
        )
        assert entry.patient.email == "new@example.com"

    def test_a_refused_change_leaves_no_entry(self, as_other_practitioner, draft, myotherapist):
        sign_note(note=draft, author=myotherapist)

        response = as_other_practitioner.post(f"{NOTES}{draft.pk}/sign/")

        assert response.status_code in (403, 404, 409)
        assert entries() == []

    def test_the_change_and_its_entry_commit_together(self, as_practitioner, draft, monkeypatch):
        def audit_log_down(*args, **kwargs):
            raise RuntimeError("the audit log cannot be written")

        monkeypatch.setattr("audit.mixins.record", audit_log_down)
        as_practitioner.raise_request_exception = False

        response = as_practitioner.patch(
            f"{NOTES}{draft.pk}/", {"plan": "Release x3"}, format="json"
        )

        assert response.status_code == 500
        assert TreatmentNote.objects.get(pk=draft.pk).plan == ""
