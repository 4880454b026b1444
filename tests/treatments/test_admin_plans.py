"""Treatment plans in the admin: started on the form, moved along by a button or an action,
edited through the services, and refusals shown as messages (never a 500)."""

import pytest

from tests.fixtures.clinic import TODAY
from tests.treatments.admin_helpers import PHASES, messages_of, posted, url
from treatments.models import Phase, PlanStatus, TreatmentPlan
from treatments.services import create_plan, move_plan_to_phase

pytestmark = pytest.mark.usefixtures("frozen_now")


class TestPlans:
    def start(self, client, patient, **overrides):
        data = {
            "patient": patient.pk,
            "goals": "Run pain-free",
            "maintenance_interval_weeks": "6",
            "assess_sessions": "1",
            "assess_per_week": "1",
            "release_sessions": "4",
            "release_per_week": "1",
            "strengthen_sessions": "8",
            "strengthen_per_week": "2",
            "maintain_sessions": "",
            "maintain_per_week": "",
        }
        return client.post(url("treatmentplan", "add"), {**data, **overrides})

    def test_a_practitioner_starts_a_plan(self, practitioner_staff, assessed_patient, myotherapist):
        assert practitioner_staff.get(url("treatmentplan", "add")).status_code == 200

        response = self.start(practitioner_staff, assessed_patient)

        plan = TreatmentPlan.objects.get()
        assert response.status_code == 302
        assert response["Location"] == url("treatmentplan", "change", plan.pk)
        assert (plan.practitioner, plan.current_phase) == (myotherapist, Phase.ASSESS)
        assert [p.phase for p in plan.phases.order_by("pk")] == ["assess", "release", "strengthen"]

    def test_a_second_active_plan_is_refused_on_the_form(
        self, practitioner_staff, assessed_patient
    ):
        self.start(practitioner_staff, assessed_patient)

        response = self.start(practitioner_staff, assessed_patient)

        assert response.status_code == 200
        assert "already has an active treatment plan" in str(response.context["form"].errors)
        assert TreatmentPlan.objects.count() == 1

    def test_a_manager_does_not_start_plans(self, manager_staff, assessed_patient):
        assert manager_staff.get(url("treatmentplan", "add")).status_code == 403

    @pytest.fixture
    def plan(self, assessed_patient, myotherapist):
        return create_plan(
            patient=assessed_patient, practitioner=myotherapist, goals="Run", phases=PHASES
        )

    def test_moving_to_a_phase_is_a_button(self, practitioner_staff, plan):
        page = practitioner_staff.get(url("treatmentplan", "change", plan.pk))
        assert "Move to Release (myotherapy)" in page.content.decode()

        response = practitioner_staff.post(url("treatmentplan", "move", plan.pk, "release"))

        assert response.status_code == 302
        plan.refresh_from_db()
        assert plan.current_phase == Phase.RELEASE
        assert plan.phases.get(phase=Phase.RELEASE).started_on == TODAY

    def test_and_a_list_action(self, manager_staff, plan):
        response = manager_staff.post(
            url("treatmentplan", "changelist"),
            {"action": "move_to_maintain", "_selected_action": [plan.pk]},
        )

        assert response.status_code == 302
        plan.refresh_from_db()
        assert plan.current_phase == Phase.MAINTAIN
        assert plan.maintenance_started_at is not None

    def test_goals_and_status_are_edited_through_the_service(self, practitioner_staff, plan):
        move_plan_to_phase(plan=plan, phase=Phase.RELEASE, by=None)
        page = practitioner_staff.get(url("treatmentplan", "change", plan.pk))

        response = practitioner_staff.post(
            url("treatmentplan", "change", plan.pk),
            posted(page, goals="Walk the dog pain-free", status="completed"),
        )

        assert response.status_code == 302
        plan.refresh_from_db()
        assert (plan.goals, plan.status) == ("Walk the dog pain-free", PlanStatus.COMPLETED)
        assert plan.phases.get(phase=Phase.RELEASE).ended_on == TODAY  # update_plan closed it

    def test_closing_a_plan_while_replanning_its_phase_still_ends_the_phase(
        self, practitioner_staff, plan
    ):
        move_plan_to_phase(plan=plan, phase=Phase.RELEASE, by=None)
        page = practitioner_staff.get(url("treatmentplan", "change", plan.pk))
        prefix = page.context["inline_admin_formsets"][0].formset.prefix
        release = [p.phase for p in plan.phases.order_by("pk")].index(Phase.RELEASE)

        response = practitioner_staff.post(
            url("treatmentplan", "change", plan.pk),
            posted(page, status="completed", **{f"{prefix}-{release}-planned_sessions": "6"}),
        )

        assert response.status_code == 302
        phase = plan.phases.get(phase=Phase.RELEASE)
        assert (phase.planned_sessions, phase.ended_on) == (6, TODAY)

    def test_a_refusal_of_the_services_is_a_message_not_an_error(self, practitioner_staff, plan):
        plan.status = PlanStatus.DISCONTINUED
        plan.save()
        page = practitioner_staff.get(url("treatmentplan", "change", plan.pk))

        response = practitioner_staff.post(
            url("treatmentplan", "change", plan.pk), posted(page, status="active"), follow=True
        )

        assert response.status_code == 200
        assert any("stays closed" in text for text in messages_of(response))
        plan.refresh_from_db()
        assert plan.status == PlanStatus.DISCONTINUED

    def test_phases_are_planned_once_each(self, practitioner_staff, assessed_patient, myotherapist):
        plan = create_plan(
            patient=assessed_patient, practitioner=myotherapist, goals="Run", phases=PHASES[:2]
        )
        page = practitioner_staff.get(url("treatmentplan", "change", plan.pk))
        prefix = page.context["inline_admin_formsets"][0].formset.prefix
        row = {
            f"{prefix}-TOTAL_FORMS": "3",
            f"{prefix}-2-phase": "release",
            f"{prefix}-2-planned_sessions": "3",
            f"{prefix}-2-sessions_per_week": "1",
        }

        response = practitioner_staff.post(
            url("treatmentplan", "change", plan.pk), posted(page, **row)
        )

        assert response.status_code == 200  # the form again, with the error
        assert "duplicate" in str(response.context["inline_admin_formsets"][0].formset.errors)
        response = practitioner_staff.post(
            url("treatmentplan", "change", plan.pk),
            posted(page, **{**row, f"{prefix}-2-phase": "strengthen"}),
        )
        assert response.status_code == 302
        assert plan.phases.count() == 3

    def test_moving_a_closed_plan_is_refused_with_a_message(self, practitioner_staff, plan):
        plan.status = PlanStatus.COMPLETED
        plan.save()

        response = practitioner_staff.post(
            url("treatmentplan", "move", plan.pk, "maintain"), follow=True
        )

        assert response.status_code == 200
        assert any("Only an active plan" in text for text in messages_of(response))
