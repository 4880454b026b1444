"""The Roland-Morris and the PSFS recorded through the API and the admin, scored by the
server; the database refusing a score out of its kind's range or without its answers; and
each measure answered with its change from the baseline by the thresholds kept as data."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from tests.fixtures.clinic import TODAY, at
from tests.treatments.admin_helpers import url
from tests.treatments.api_helpers import OUTCOMES
from treatments.models import ImportantChange, MeasureKind, OutcomeMeasure
from treatments.services import record_odi, record_pain

pytestmark = pytest.mark.usefixtures("frozen_now", "fresh_throttles")

RMDQ_NINE_YES = [True] * 9 + [False] * 15
PSFS = [
    {"activity": "Putting on shoes", "score": 3},
    {"activity": "Sitting for an hour", "score": 4},
    {"activity": "Running 5 km", "score": 2},
]


class TestRecordedThroughTheApi:
    def test_a_roland_morris_is_scored_by_the_server(self, as_practitioner, assessed_patient):
        answers = [*RMDQ_NINE_YES[:-1], None]  # one unanswered: 9 of 23, prorated

        response = as_practitioner.post(
            OUTCOMES, {"patient": assessed_patient.pk, "kind": "rmdq", "rmdq_answers": answers}
        )

        assert response.status_code == 201, response.json()
        body = response.json()
        assert (body["kind"], body["value"]) == ("rmdq", 9.4)  # 9 x 24 / 23
        assert body["rmdq_answers"] == answers
        assert body["instrument_version"] == "RMDQ-24"
        assert body["change"]["verdict"] == "baseline"

    def test_a_psfs_is_the_mean_of_the_patients_activities(self, as_practitioner, assessed_patient):
        response = as_practitioner.post(
            OUTCOMES, {"patient": assessed_patient.pk, "kind": "psfs", "psfs": PSFS}
        )

        assert response.status_code == 201, response.json()
        body = response.json()
        assert (body["value"], body["psfs"]) == (3.0, PSFS)
        measure = OutcomeMeasure.objects.get()
        assert measure.psfs_activities == [item["activity"] for item in PSFS]
        assert measure.psfs_scores == [3, 4, 2]

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"kind": "rmdq"}, "rmdq_answers"),
            ({"kind": "rmdq", "rmdq_answers": [True] * 23}, "rmdq_answers"),
            ({"kind": "rmdq", "rmdq_answers": [None] * 3 + [True] * 21}, "rmdq_answers"),
            ({"kind": "rmdq", "rmdq_answers": RMDQ_NINE_YES, "value": 3}, "value"),
            ({"kind": "psfs"}, "psfs"),
            ({"kind": "psfs", "psfs": PSFS[:2]}, "psfs"),
            ({"kind": "psfs", "psfs": [*PSFS, {"activity": "Gardening", "score": 11}]}, "psfs"),
            ({"kind": "psfs", "psfs": [*PSFS[:2], {"activity": "", "score": 1}]}, "psfs"),
            ({"kind": "psfs", "psfs": PSFS, "rmdq_answers": RMDQ_NINE_YES}, "rmdq_answers"),
            ({"kind": "odi", "odi_answers": [1] * 10, "psfs": PSFS}, "psfs"),
        ],
    )
    def test_refused_answers_name_the_field(self, as_practitioner, assessed_patient, body, field):
        response = as_practitioner.post(OUTCOMES, {"patient": assessed_patient.pk, **body})

        assert response.status_code == 400, response.json()
        assert next(iter(response.json()["fields"])).split(".")[0] == field
        assert not OutcomeMeasure.objects.exists()


class TestTheChangeFromTheBaseline:
    def pain_series(self, patient, *scores):
        for days_ago, score in zip(range(len(scores), 0, -1), scores, strict=True):
            record_pain(
                patient=patient,
                score=score,
                by=None,
                recorded_at=at(TODAY - timedelta(days_ago), 9),
            )

    def test_each_measure_is_classified_against_the_first(self, as_practitioner, assessed_patient):
        self.pain_series(assessed_patient, 6, 5, 4, 8, 0)

        results = as_practitioner.get(OUTCOMES, {"kind": "pain"}).json()["results"]

        assert [(r["value"], r["change"]["verdict"]) for r in results] == [
            (6, "baseline"),
            (5, "no_important_change"),
            (4, "improved"),
            (8, "worse"),
            (0, "improved"),
        ]
        assert [r["change"]["recovered"] for r in results] == [False] * 4 + [True]
        assert results[2]["change"]["improvement"] == 2 and results[2]["change"]["baseline"] == 6

    def test_the_managers_threshold_is_the_one_applied(self, as_practitioner, assessed_patient):
        self.pain_series(assessed_patient, 6, 4)
        ImportantChange.objects.filter(kind=MeasureKind.PAIN).update(
            points=Decimal(3), percent=None
        )

        results = as_practitioner.get(OUTCOMES, {"kind": "pain"}).json()["results"]

        assert results[1]["change"]["verdict"] == "no_important_change"

    def test_without_a_threshold_a_measure_is_unclassified(self, as_practitioner, assessed_patient):
        self.pain_series(assessed_patient, 6, 1)
        ImportantChange.objects.filter(kind=MeasureKind.PAIN).delete()

        results = as_practitioner.get(OUTCOMES, {"kind": "pain"}).json()["results"]

        assert results[1]["change"] == {
            "verdict": "unclassified",
            "baseline": 6.0,
            "improvement": 5.0,
            "percent": 83.3,
            "recovered": None,
        }

    def test_the_seeded_thresholds_and_their_sources(self, db):
        seeded = {row.kind: row for row in ImportantChange.objects.all()}

        assert {k: (r.points, r.percent) for k, r in seeded.items()} == {
            "odi": (Decimal(10), Decimal(30)),
            "pain": (Decimal(2), Decimal(30)),
            "rmdq": (Decimal(5), Decimal(30)),
            "psfs": (Decimal(2), None),
        }
        assert "Ostelo" in seeded["odi"].source and "Spine 2008" in seeded["odi"].source
        assert "Abbott JH, Schmitt JS" in seeded["psfs"].source
        assert seeded["rmdq"].recovered_at_most == 2 and "Kamper" in seeded["rmdq"].recovered_source


class TestTheDatabaseKeepsEachKindsRules:
    def refused(self, patient, **fields) -> None:
        with pytest.raises(IntegrityError), transaction.atomic():
            OutcomeMeasure.objects.create(patient=patient, recorded_at=at(TODAY, 7), **fields)

    def test_scores_outside_their_kinds_range(self, assessed_patient):
        self.refused(assessed_patient, kind="rmdq", value=25, rmdq_answers=[True] * 24)
        self.refused(
            assessed_patient,
            kind="psfs",
            value=Decimal("10.5"),
            psfs_activities=["a", "b", "c"],
            psfs_scores=[10, 10, 10],
        )

    def test_answers_of_the_kind_are_required_and_others_refused(self, assessed_patient):
        self.refused(assessed_patient, kind="rmdq", value=3)
        self.refused(assessed_patient, kind="rmdq", value=3, rmdq_answers=[True] * 23)
        self.refused(assessed_patient, kind="psfs", value=3, psfs_activities=["a", "b", "c"])
        self.refused(
            assessed_patient,
            kind="psfs",
            value=3,
            psfs_activities=["a", "b", "c"],
            psfs_scores=[3, 3],
        )
        self.refused(
            assessed_patient,
            kind="psfs",
            value=3,
            psfs_activities=["a", "b"],
            psfs_scores=[3, 3],
        )
        self.refused(assessed_patient, kind="pain", value=3, rmdq_answers=[True] * 24)

    def test_the_services_rows_pass(self, assessed_patient):
        record_odi(patient=assessed_patient, answers=[1] * 10, by=None)
        assert OutcomeMeasure.objects.get().instrument_version == "ODI 2.1a"


class TestTheAdmin:
    def post(self, client, patient, **answers):
        data = {
            "patient": patient.pk,
            "recorded_at_0": TODAY.isoformat(),
            "recorded_at_1": "07:30",
            **answers,
        }
        return client.post(url("outcomemeasure", "add"), data)

    def test_a_roland_morris_entered_by_statement(self, practitioner_staff, assessed_patient):
        answers = {f"rmdq_{n}": "yes" if n <= 6 else "no" for n in range(1, 25)}
        answers["rmdq_24"] = ""  # one unanswered: 6 of 23, prorated

        response = self.post(practitioner_staff, assessed_patient, kind="rmdq", **answers)

        assert response.status_code == 302
        measure = OutcomeMeasure.objects.get()
        assert (measure.kind, measure.value) == (MeasureKind.RMDQ, Decimal("6.3"))
        page = practitioner_staff.get(url("outcomemeasure", "change", measure.pk))
        assert "6.3/24" in page.content.decode() and "baseline" in page.content.decode()

    def test_a_psfs_entered_as_activities(self, practitioner_staff, assessed_patient):
        rows = {}
        for n, item in enumerate(PSFS, start=1):
            rows[f"psfs_activity_{n}"] = item["activity"]
            rows[f"psfs_score_{n}"] = str(item["score"])

        response = self.post(practitioner_staff, assessed_patient, kind="psfs", **rows)

        assert response.status_code == 302
        assert OutcomeMeasure.objects.get().value == Decimal("3.0")

    def test_an_activity_without_a_rating_is_a_form_error(
        self, practitioner_staff, assessed_patient
    ):
        response = self.post(
            practitioner_staff,
            assessed_patient,
            kind="psfs",
            psfs_activity_1="Sitting",
            psfs_score_1="4",
            psfs_activity_2="Walking",
            psfs_score_2="4",
            psfs_activity_3="Running",
        )

        assert response.status_code == 200
        assert "Rate each activity" in str(response.context["adminform"].form.non_field_errors())
        assert not OutcomeMeasure.objects.exists()

    def test_the_list_shows_each_change(self, practitioner_staff, assessed_patient):
        record_pain(
            patient=assessed_patient, score=7, by=None, recorded_at=at(TODAY - timedelta(2), 9)
        )
        record_pain(
            patient=assessed_patient, score=4, by=None, recorded_at=at(TODAY - timedelta(1), 9)
        )

        page = practitioner_staff.get(url("outcomemeasure", "changelist")).content.decode()

        assert "important improvement" in page and "baseline" in page
