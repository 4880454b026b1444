"""Treatment notes over HTTP: written by practitioners for their own sessions, edited as
drafts, and final once signed (addenda amend them)."""

from datetime import timedelta

import pytest

from tests.fixtures.clinic import TODAY
from tests.treatments.api_helpers import EXERCISES, NOTES, session_of
from treatments.models import ExerciseEntry, MeasureKind, OutcomeMeasure, TreatmentNote

pytestmark = pytest.mark.usefixtures("frozen_now", "fresh_throttles")


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

        # Refused, each named (issue 16: a body's unknown or read-only field is never dropped
        # in silence); nothing is written.
        assert response.status_code == 400
        assert set(response.json()["fields"]) == {
            "id",
            "author",
            "patient",
            "signed_at",
            "status",
            "created_at",
        }
        assert not TreatmentNote.objects.exists()

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

        assert response.status_code == 400
        assert set(response.json()["fields"]) == {"signed_at", "status", "author"}
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
