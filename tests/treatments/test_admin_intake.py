"""The intake in the admin: its answers read-only with the red flags highlighted, and the
clearance a practitioner records (never a manager)."""

import pytest

from tests.fixtures.clinic import TODAY
from tests.treatments.admin_helpers import INTAKE, messages_of, url
from treatments.models import Intake, RedFlagClearance
from treatments.services import submit_intake

pytestmark = pytest.mark.usefixtures("frozen_now")


class TestIntakeAndRedFlags:
    @pytest.fixture
    def flagged(self, assessed_patient):
        return submit_intake(
            patient=assessed_patient,
            answers={**INTAKE, "red_flags": ["saddle_numbness", "fever"]},
            entered_by=None,
        )

    def test_the_answers_are_shown_read_only_with_the_red_flags_highlighted(
        self, practitioner_staff, flagged
    ):
        response = practitioner_staff.get(url("intake", "change", flagged.pk))

        html = response.content.decode()
        assert response.context["has_change_permission"] is False
        assert 'class="red-flags-open"' in html
        assert "Saddle numbness, Fever" in html
        assert "Pins and needles, Sharp or stabbing pain down a leg" in html
        assert "Record clearance" in html
        assert practitioner_staff.post(url("intake", "change", flagged.pk), {}).status_code == 403

    def test_a_practitioner_records_a_clearance(
        self, practitioner_staff, flagged, practitioner_staff_user
    ):
        page = url("intake", "clear", flagged.pk)
        assert practitioner_staff.get(page).status_code == 200

        response = practitioner_staff.post(
            page,
            {"clear": "1", "cleared_on": TODAY.isoformat(), "note": "Seen by GP: cleared."},
            follow=True,
        )

        clearance = RedFlagClearance.objects.get(intake=flagged)
        assert (clearance.cleared_by, clearance.cleared_on) == (practitioner_staff_user, TODAY)
        html = response.content.decode()
        assert 'class="red-flags-cleared"' in html
        assert "Record clearance" not in html

    def test_a_clearance_needs_its_note(self, practitioner_staff, flagged):
        response = practitioner_staff.post(
            url("intake", "clear", flagged.pk), {"clear": "1", "cleared_on": TODAY.isoformat()}
        )

        assert response.status_code == 200
        assert "note" in response.context["form"].errors
        assert not RedFlagClearance.objects.exists()

    def test_through_the_lists_action_too(self, practitioner_staff, flagged, assessed_patient):
        plain = submit_intake(patient=assessed_patient, answers=INTAKE, entered_by=None)
        selected = {"action": "clear_selected", "_selected_action": [flagged.pk, plain.pk]}

        confirm = practitioner_staff.post(url("intake", "changelist"), selected)
        assert confirm.status_code == 200
        assert "Record the clearance" in confirm.content.decode()
        done = practitioner_staff.post(
            url("intake", "changelist"),
            {**selected, "clear": "1", "cleared_on": TODAY.isoformat(), "note": "GP: fine."},
            follow=True,
        )

        assert done.status_code == 200
        assert RedFlagClearance.objects.filter(intake=flagged).exists()
        assert not RedFlagClearance.objects.filter(intake=plain).exists()
        # The flagged intake's clearance covers everything up to it: the later plain intake
        # has nothing left to clear.
        assert any("No open red flags up to this intake" in text for text in messages_of(done))

    def test_a_manager_reads_but_does_not_clear(self, manager_staff, flagged):
        response = manager_staff.get(url("intake", "change", flagged.pk))

        assert response.status_code == 200
        assert "Record clearance" not in response.content.decode()
        assert manager_staff.get(url("intake", "clear", flagged.pk)).status_code == 403

    def test_a_practitioner_enters_a_questionnaire(
        self, practitioner_staff, assessed_patient, practitioner_staff_user
    ):
        response = practitioner_staff.post(
            url("intake", "add"),
            {
                **INTAKE,
                "patient": assessed_patient.pk,
                "red_flags": ["recent_trauma"],
            },
        )

        assert response.status_code == 302
        intake = Intake.objects.get()
        assert intake.entered_by == practitioner_staff_user
        assert intake.red_flags == ["recent_trauma"]
