"""STarT Back risk screening at intake (Hill et al. 2008): answered by the patient or entered
by staff with the intake, scored by the server, kept by the database as scored, shown to the
practitioner beside the red flags; and the re-screen due when a patient's measures were an
important worsening twice in a row."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from appointments.services import book_appointment
from tests.fixtures.clinic import TODAY, at
from tests.treatments.api_helpers import INTAKE_ANSWERS, INTAKES, MY_INTAKE
from treatments.instruments import BOTHERSOMENESS
from treatments.models import Bothersomeness, RiskScreening
from treatments.selectors import latest_risk_by_patient, rescreen_due_among
from treatments.services import StartBackAnswers, record_pain, screen_start_back

pytestmark = pytest.mark.usefixtures("frozen_now", "fresh_throttles")

# Items 5 to 8 agreed, item 9 "very much": total 5, psychosocial 5 → high.
HIGH = {"agree": [False] * 4 + [True] * 4, "bothersomeness": "very_much"}
# Items 1 to 4 agreed only: total 4, psychosocial 0 → medium.
MEDIUM = {"agree": [True] * 4 + [False] * 4, "bothersomeness": "moderately"}


def test_the_models_choices_are_the_instruments():
    assert Bothersomeness.values == BOTHERSOMENESS


class TestAtIntake:
    def test_the_patient_answers_it_with_their_intake(
        self, as_patient, as_practitioner, patient_user
    ):
        response = as_patient.post(MY_INTAKE, {**INTAKE_ANSWERS, "start_back": HIGH})

        assert response.status_code == 201, response.json()
        screening = RiskScreening.objects.get()
        assert (screening.total, screening.psychosocial, screening.risk) == (5, 5, "high")
        assert screening.intake_id == response.json()["id"]
        assert screening.entered_by == patient_user
        staff_view = as_practitioner.get(f"{INTAKES}{screening.intake_id}/").json()
        assert staff_view["start_back"]["risk"] == "high"
        assert staff_view["start_back"]["instrument_version"].startswith("STarT Back")

    def test_staff_enter_it_with_the_intake(self, as_practitioner, assessed_patient):
        response = as_practitioner.post(
            INTAKES, {**INTAKE_ANSWERS, "patient": assessed_patient.pk, "start_back": MEDIUM}
        )

        assert response.status_code == 201, response.json()
        assert response.json()["start_back"]["risk"] == "medium"

    def test_an_intake_without_it_has_none(self, as_practitioner, assessed_patient):
        response = as_practitioner.post(INTAKES, {**INTAKE_ANSWERS, "patient": assessed_patient.pk})

        assert response.json()["start_back"] is None
        assert not RiskScreening.objects.exists()

    @pytest.mark.parametrize(
        "start_back",
        [
            {"agree": [True] * 7, "bothersomeness": "slightly"},
            {"agree": [True] * 8, "bothersomeness": "a lot"},
            {"agree": [True] * 8},
        ],
    )
    def test_incomplete_answers_name_the_field_and_record_nothing(
        self, as_patient, patient_user, start_back
    ):
        response = as_patient.post(MY_INTAKE, {**INTAKE_ANSWERS, "start_back": start_back})

        assert response.status_code == 400
        assert next(iter(response.json()["fields"])).startswith("start_back")
        assert not RiskScreening.objects.exists()


class TestTheDatabase:
    def test_a_risk_that_disagrees_with_the_totals_is_refused(self, assessed_patient):
        with pytest.raises(IntegrityError), transaction.atomic():
            RiskScreening.objects.create(
                patient=assessed_patient,
                answered_at=at(TODAY, 7),
                instrument_version="x",
                agree=[True] * 3 + [False] * 5,
                bothersomeness="slightly",
                total=3,
                psychosocial=0,
                risk="medium",  # total 3 is low
            )


def worsening(patient, *scores):
    for days_ago, score in zip(range(len(scores) + 1, 1, -1), scores, strict=True):
        record_pain(
            patient=patient, score=score, by=None, recorded_at=at(TODAY - timedelta(days_ago), 9)
        )


class TestTheRescreen:
    def test_worse_twice_in_a_row_is_due(self, assessed_patient):
        worsening(assessed_patient, 4, 6, 7)  # +2, +3 from the baseline 4

        assert rescreen_due_among([assessed_patient.pk]) == {assessed_patient.pk}

    def test_worse_once_is_not(self, assessed_patient):
        worsening(assessed_patient, 4, 6, 5)  # +2, then +1: no important change

        assert rescreen_due_among([assessed_patient.pk]) == set()

    def test_a_screening_since_then_answers_it(self, assessed_patient):
        worsening(assessed_patient, 4, 6, 7)
        screen_start_back(patient=assessed_patient, answers=StartBackAnswers(**MEDIUM), by=None)

        assert rescreen_due_among([assessed_patient.pk]) == set()
        assert latest_risk_by_patient([assessed_patient.pk]) == {assessed_patient.pk: "medium"}


class TestBesideTheRedFlags:
    @pytest.fixture
    def appointment(self, assessed_patient, myotherapy, myotherapist):
        screen_start_back(
            patient=assessed_patient,
            answers=StartBackAnswers(**HIGH),
            by=None,
            now=at(TODAY - timedelta(days=10), 9),  # at intake, before the worsening
        )
        worsening(assessed_patient, 4, 6, 7)
        return book_appointment(
            patient=assessed_patient,
            service=myotherapy,
            practitioner=myotherapist,
            start=at(TODAY + timedelta(days=3), 10),
        )

    def test_the_practitioner_sees_the_risk_reception_does_not(
        self, appointment, as_practitioner, as_reception
    ):
        url = f"/api/v1/appointments/{appointment.pk}/"
        practitioner = as_practitioner.get(url).json()
        reception = as_reception.get(url).json()

        assert (practitioner["start_back_risk"], practitioner["rescreen_due"]) == ("high", True)
        assert (reception["start_back_risk"], reception["rescreen_due"]) == (None, None)


def test_the_intakes_admin_page_shows_the_screening(practitioner_staff, as_patient, patient_user):
    intake = as_patient.post(MY_INTAKE, {**INTAKE_ANSWERS, "start_back": HIGH}).json()

    page = practitioner_staff.get(
        reverse("admin:treatments_intake_change", args=[intake["id"]])
    ).content.decode()

    assert "High risk: total 5 of 9, psychosocial 5 of 5" in page
