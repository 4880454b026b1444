"""Outcome measures in the admin: an ODI entered as ten answers and scored by the service,
and a pain score."""

from decimal import Decimal

import pytest

from tests.fixtures.clinic import TODAY
from tests.treatments.admin_helpers import url
from treatments.models import ODI_SECTIONS, MeasureKind, OutcomeMeasure

pytestmark = pytest.mark.usefixtures("frozen_now")


class TestOutcomeMeasures:
    def odi(self, client, patient, answers):
        data = {
            "patient": patient.pk,
            "kind": "odi",
            "recorded_at_0": TODAY.isoformat(),
            "recorded_at_1": "07:30",
        }
        for section, answer in zip(ODI_SECTIONS, answers, strict=True):
            data[f"odi_{section}"] = "" if answer is None else str(answer)
        return client.post(url("outcomemeasure", "add"), data)

    def test_an_odi_is_entered_as_ten_answers_and_scored_by_the_service(
        self, practitioner_staff, assessed_patient, practitioner_staff_user
    ):
        response = self.odi(practitioner_staff, assessed_patient, [2, 1, 3, 2, 1, 1, 0, None, 1, 3])

        assert response.status_code == 302
        measure = OutcomeMeasure.objects.get()
        assert (measure.kind, measure.value) == (MeasureKind.ODI, Decimal("31.1"))
        assert measure.odi_answers[7] is None
        assert measure.recorded_by == practitioner_staff_user
        page = practitioner_staff.get(url("outcomemeasure", "change", measure.pk))
        assert "31.1%" in page.content.decode()
        assert page.context["has_change_permission"] is False

    def test_too_many_unanswered_sections_is_a_form_error(
        self, practitioner_staff, assessed_patient
    ):
        response = self.odi(
            practitioner_staff, assessed_patient, [1, 1, 1, 1, 1, 1, 1, None, None, None]
        )

        assert response.status_code == 200
        assert "at least 8" in str(response.context["adminform"].form.non_field_errors())
        assert not OutcomeMeasure.objects.exists()

    def test_a_pain_score(self, practitioner_staff, assessed_patient):
        response = practitioner_staff.post(
            url("outcomemeasure", "add"),
            {
                "patient": assessed_patient.pk,
                "kind": "pain",
                "recorded_at_0": TODAY.isoformat(),
                "recorded_at_1": "07:30",
                "pain": "4",
            },
        )

        assert response.status_code == 302
        assert OutcomeMeasure.objects.get().value == 4
