"""The intake over HTTP: a patient submits their own, staff enter one for a patient they
treat, a practitioner clears the red flags; and the red-flag marker, read in one query."""

from datetime import timedelta

import pytest

from tests.fixtures.clinic import TODAY
from tests.treatments.api_helpers import INTAKE_ANSWERS, INTAKES, MY_INTAKE, session_of
from treatments.models import Intake
from treatments.selectors import open_red_flags_by_patient
from treatments.services import clear_red_flags, submit_intake

pytestmark = pytest.mark.usefixtures("frozen_now", "fresh_throttles")


class TestIntake:
    def test_a_patient_submits_their_intake_with_red_flags(
        self, as_patient, assessed_patient, patient_user, other_patient_user
    ):
        answers = {**INTAKE_ANSWERS, "red_flags": ["saddle_numbness", "fever"]}
        not_the_patients = {
            "patient": other_patient_user.patient.pk,
            "entered_by": 1,
            "submitted_at": "2020-01-01T00:00:00+11:00",
            "clearance": {"cleared_on": "2027-03-22", "note": "self-cleared"},
        }

        refused = as_patient.post(MY_INTAKE, {**answers, **not_the_patients})
        response = as_patient.post(MY_INTAKE, answers)

        assert refused.status_code == 400
        assert set(refused.json()["fields"]) == set(not_the_patients)
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
