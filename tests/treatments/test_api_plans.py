"""Treatment plans over HTTP: started with their phases, moved along the pathway, changed and
closed but never reopened."""

import pytest

from tests.fixtures.clinic import TODAY
from tests.treatments.api_helpers import PLANS
from treatments.models import Phase, PlanStatus
from treatments.services import create_plan

pytestmark = pytest.mark.usefixtures("frozen_now", "fresh_throttles")


class TestPlans:
    def test_a_practitioner_starts_a_plan_with_its_phases(
        self, as_practitioner, assessed_patient, myotherapist, second_myotherapist
    ):
        plan = {
            "patient": assessed_patient.pk,
            "goals": "Pain-free running",
            "maintenance_interval_weeks": 4,
            "phases": [
                {"phase": "assess", "planned_sessions": 1, "sessions_per_week": 1},
                {"phase": "release", "planned_sessions": 4, "sessions_per_week": "1.0"},
                {"phase": "maintain", "planned_sessions": 6, "sessions_per_week": 0.2},
            ],
        }
        not_the_clients = {
            "practitioner": second_myotherapist.pk,
            "status": "completed",
            "current_phase": "maintain",
            "maintenance_started_at": "2027-01-01T00:00:00+11:00",
        }

        refused = as_practitioner.post(PLANS, {**plan, **not_the_clients})
        response = as_practitioner.post(PLANS, plan)

        assert refused.status_code == 400
        assert set(refused.json()["fields"]) == set(not_the_clients)
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
            },
        )
        refused = as_practitioner.patch(
            f"{PLANS}{plan.pk}/", {"current_phase": "maintain", "patient": 12345}
        )
        assert refused.status_code == 400
        assert set(refused.json()["fields"]) == {"current_phase", "patient"}
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
