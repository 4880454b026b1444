"""Outcome measures over HTTP, scored by the server and never changed, and the progress
series they make with the plan's phases."""

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.factories import PatientFactory
from tests.fixtures.clinic import TODAY, at
from tests.treatments.api_helpers import ODI_ONE_UNANSWERED, OUTCOMES, progress_url
from treatments.models import OutcomeMeasure, Phase
from treatments.services import move_plan_to_phase, record_odi, record_pain

pytestmark = pytest.mark.usefixtures("frozen_now", "fresh_throttles")

BASELINE, IMPROVED = {"verdict": "baseline"}, {"verdict": "improved"}


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
                {"at": "2027-03-12T10:00:00+11:00", "value": 8.0, **BASELINE, "recovered": False},
                {"at": "2027-03-19T10:00:00+11:00", "value": 6.0, **IMPROVED, "recovered": False},
                {"at": "2027-03-21T10:00:00+11:00", "value": 4.0, **IMPROVED, "recovered": False},
            ],
            "odi": [
                {"at": "2027-02-10T10:00:00+11:00", "value": 100.0, **BASELINE, "recovered": None},
                {"at": "2027-03-20T10:00:00+11:00", "value": 31.1, **IMPROVED, "recovered": None},
            ],
            "rmdq": [],
            "psfs": [],
            # Pain from 8: 2 points (less than 30 %) either way; the ODI from 100 %: 10 points
            # (less than 30 %) down, and nothing above 100 %.
            "bands": {
                "pain": {"baseline": 8.0, "improved_at": 6.0, "worse_at": 10.0},
                "odi": {"baseline": 100.0, "improved_at": 90.0, "worse_at": 100.0},
                "rmdq": None,
                "psfs": None,
            },
            "phases": [
                {"phase": "assess", "started_on": "2027-03-22", "ended_on": "2027-03-22"},
                {"phase": "release", "started_on": "2027-03-22", "ended_on": None},
            ],
            "adherence": [],  # no home programme
        }

    def test_empty_for_a_patient_without_records(self, as_manager, other_patient_user):
        response = as_manager.get(progress_url(other_patient_user.patient))

        assert response.json() == {
            "pain": [],
            "odi": [],
            "rmdq": [],
            "psfs": [],
            "bands": {"pain": None, "odi": None, "rmdq": None, "psfs": None},
            "phases": [],
            "adherence": [],
        }

    def test_a_patient_nobody_may_see_is_404(self, as_manager, as_practitioner, new_patient):
        assert as_manager.get("/api/v1/patients/987654/progress/").status_code == 404
        # A patient the practitioner has never treated:
        assert as_practitioner.get(progress_url(new_patient)).status_code == 404
