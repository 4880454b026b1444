"""The patient's admin page: the progress chart (the same series as the API's) and the
red-flag marker, the reasons only for clinical readers."""

from datetime import datetime, timedelta
from xml.etree import ElementTree

import pytest
from django.urls import reverse

from tests.fixtures.clinic import TODAY, at
from tests.treatments.admin_helpers import INTAKE, PHASES
from treatments.api.progress import ProgressSerializer
from treatments.models import Phase
from treatments.services import (
    clear_red_flags,
    create_plan,
    move_plan_to_phase,
    record_odi,
    record_pain,
    submit_intake,
)

pytestmark = pytest.mark.usefixtures("frozen_now")

SVG = "{http://www.w3.org/2000/svg}"


class TestThePatientsPage:
    """The chart and the red-flag marker on the patient's admin page."""

    @pytest.fixture
    def history(self, assessed_patient, myotherapist):
        """Five pain scores and two ODIs over ten weeks, through the phases."""
        plan = create_plan(
            patient=assessed_patient, practitioner=myotherapist, goals="Run", phases=PHASES
        )
        plan.phases.filter(phase=Phase.ASSESS).update(
            started_on=TODAY - timedelta(days=70), ended_on=TODAY - timedelta(days=63)
        )
        plan.phases.filter(phase=Phase.RELEASE).update(
            started_on=TODAY - timedelta(days=63), ended_on=TODAY - timedelta(days=30)
        )
        plan.phases.filter(phase=Phase.STRENGTHEN).update(started_on=TODAY - timedelta(days=30))
        for weeks, score in enumerate([7, 6, 6, 4, 3]):
            record_pain(
                patient=assessed_patient,
                score=score,
                by=None,
                recorded_at=at(TODAY - timedelta(days=70 - 14 * weeks), 10),
            )
        for days_ago, answers in ((70, [3] * 10), (14, [1] * 10)):
            record_odi(
                patient=assessed_patient,
                answers=answers,
                by=None,
                recorded_at=at(TODAY - timedelta(days=days_ago), 10),
            )
        return plan

    @staticmethod
    def chart_of(response) -> ElementTree.Element | None:
        html = response.content.decode()
        if 'class="progress-chart"' not in html:
            return None
        start = html.rindex("<svg", 0, html.index('class="progress-chart"'))
        return ElementTree.fromstring(html[start : html.index("</svg>", start) + len("</svg>")])

    @staticmethod
    def with_class(chart, name) -> list:
        return [e for e in chart.iter() if name in (e.get("class") or "").split()]

    def page(self, client, patient):
        response = client.get(reverse("admin:patients_patient_change", args=[patient.pk]))
        assert response.status_code == 200
        return response

    @pytest.mark.parametrize("who", ["practitioner_staff", "manager_staff"])
    def test_clinical_readers_see_the_chart(self, request, who, assessed_patient, history):
        client = request.getfixturevalue(who)

        chart = self.chart_of(self.page(client, assessed_patient))

        assert chart is not None and chart.tag == f"{SVG}svg"  # well-formed XML, in SVG
        assert len(self.with_class(chart, "pain-point")) == 5
        assert len(self.with_class(chart, "odi-point")) == 2
        phases = [e.get("class") for e in self.with_class(chart, "phase")]
        assert phases == ["phase phase-assess", "phase phase-release", "phase phase-strengthen"]
        titles = [e.findtext(f"{SVG}title") for e in self.with_class(chart, "odi-point")]
        assert titles == [
            f"ODI 60.0% on {TODAY - timedelta(days=70):%d %b %Y}",
            f"ODI 20.0% on {TODAY - timedelta(days=14):%d %b %Y}",
        ]

    @pytest.mark.parametrize("who", ["practitioner_staff", "manager_staff"])
    def test_the_chart_draws_the_series_the_api_answers(
        self, request, who, assessed_patient, history
    ):
        """One progress series (`treatments.progress.progress_of`) for both doors."""
        client = request.getfixturevalue(who)
        move_plan_to_phase(plan=history, phase=Phase.MAINTAIN, by=None)

        page = self.page(client, assessed_patient)
        api = client.get(f"/api/v1/patients/{assessed_patient.pk}/progress/").json()

        assert ProgressSerializer(page.context["clinical"]["progress"]).data == api
        chart = self.chart_of(page)
        for kind, label, unit in (("pain", "Pain", "/10"), ("odi", "ODI", "%")):
            titles = [e.findtext(f"{SVG}title") for e in self.with_class(chart, f"{kind}-point")]
            assert titles == [
                f"{label} {point['value']:{'g' if kind == 'pain' else '.1f'}}{unit} on "
                f"{datetime.fromisoformat(point['at']):%d %b %Y}"
                for point in api[kind]
            ]
        bands = [e.get("class") for e in self.with_class(chart, "phase")]
        assert bands == [f"phase phase-{phase['phase']}" for phase in api["phases"]]
        assert len(bands) == 4

    def test_reception_sees_no_chart(self, reception_staff, assessed_patient, history):
        response = self.page(reception_staff, assessed_patient)

        assert self.chart_of(response) is None
        assert 'id="patient-progress"' not in response.content.decode()
        assert response.context["clinical"] is None

    def test_no_scores_no_chart(self, practitioner_staff, assessed_patient):
        response = self.page(practitioner_staff, assessed_patient)

        assert self.chart_of(response) is None
        assert "No pain or ODI scores yet." in response.content.decode()

    def test_names_in_the_chart_are_escaped(self, practitioner_staff, assessed_patient, history):
        assessed_patient.first_name = "Ari <b>&"
        assessed_patient.save()

        chart = self.chart_of(self.page(practitioner_staff, assessed_patient))

        assert chart.findtext(f"{SVG}title") == "Progress of Ari <b>& Assessed"

    @pytest.fixture
    def red_flags(self, assessed_patient):
        return submit_intake(
            patient=assessed_patient,
            answers={**INTAKE, "red_flags": ["bladder_bowel_change", "fever"]},
            entered_by=None,
        )

    def test_reception_sees_the_marker_without_the_reasons(
        self, reception_staff, assessed_patient, red_flags
    ):
        html = self.page(reception_staff, assessed_patient).content.decode()

        assert 'class="red-flag-marker"' in html
        assert "see practitioner" in html
        assert "Bladder or bowel changes" not in html

    @pytest.mark.parametrize("who", ["practitioner_staff", "manager_staff"])
    def test_clinical_readers_see_the_reasons(self, request, who, assessed_patient, red_flags):
        html = self.page(request.getfixturevalue(who), assessed_patient).content.decode()

        assert 'class="red-flag-marker"' in html
        assert "Bladder or bowel changes, Fever" in html

    def test_a_cleared_intake_shows_no_marker(
        self, reception_staff, assessed_patient, red_flags, myotherapist
    ):
        clear_red_flags(
            intake=red_flags, cleared_by=myotherapist.user, cleared_on=TODAY, note="GP: fine"
        )

        html = self.page(reception_staff, assessed_patient).content.decode()

        assert 'class="red-flag-marker"' not in html
