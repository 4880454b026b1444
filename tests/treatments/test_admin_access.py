"""Clinical records in the admin: who sees which. A practitioner lists and opens only the
patients they treat, a manager reads everyone's, reception opens none."""

import pytest
from django.urls import reverse

from tests.fixtures.clinic import TODAY
from tests.treatments.admin_helpers import AdminRecords, url
from treatments.models import Intake, OutcomeMeasure, TreatmentPlan
from treatments.services import start_note

pytestmark = pytest.mark.usefixtures("frozen_now")


def shown(response) -> list:
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


class TestWhoSeesWhich(AdminRecords):
    @pytest.mark.parametrize("model", ["intake", "treatmentplan", "outcomemeasure"])
    def test_a_practitioner_lists_only_the_patients_they_treat(
        self, practitioner_staff, records_of_both, assessed_patient, model
    ):
        listed = shown(practitioner_staff.get(url(model, "changelist")))

        assert [record.patient_id for record in listed] == [assessed_patient.pk]

    def test_and_only_their_patients_notes(self, practitioner_staff, signed, stranger):
        other_session = stranger.appointments.get()
        start_note(appointment=other_session, author=other_session.practitioner)

        listed = shown(practitioner_staff.get(url("treatmentnote", "changelist")))

        assert [note.pk for note in listed] == [signed.pk]

    def test_another_patients_record_is_not_found(
        self, practitioner_staff, records_of_both, stranger
    ):
        plan = TreatmentPlan.objects.get(patient=stranger)

        response = practitioner_staff.get(url("treatmentplan", "change", plan.pk))

        assert response.status_code == 302  # the admin's "not found": back to the index
        assert reverse("admin:index") in response["Location"]

    @pytest.mark.parametrize("model", ["intake", "treatmentplan", "outcomemeasure"])
    def test_the_patient_pages_links_list_one_patients_records(
        self, manager_staff, records_of_both, stranger, model
    ):
        listed = shown(manager_staff.get(url(model, "changelist"), {"patient": stranger.pk}))

        assert [record.patient_id for record in listed] == [stranger.pk]

    def test_and_their_notes(self, manager_staff, signed, stranger):
        listed = shown(
            manager_staff.get(url("treatmentnote", "changelist"), {"patient": stranger.pk})
        )
        assert listed == []
        patient = signed.appointment.patient
        listed = shown(
            manager_staff.get(url("treatmentnote", "changelist"), {"patient": patient.pk})
        )
        assert listed == [signed]

    @pytest.mark.parametrize("model", ["intake", "treatmentplan", "outcomemeasure"])
    def test_add_pages_take_the_patient_from_the_link(
        self, practitioner_staff, assessed_patient, model
    ):
        for value in (str(assessed_patient.pk), "not-a-number", "99999"):
            response = practitioner_staff.get(url(model, "add"), {"patient": value})
            assert response.status_code == 200, value

    @pytest.mark.parametrize("model", ["intake", "treatmentplan", "outcomemeasure"])
    def test_a_manager_reads_everyones(self, manager_staff, records_of_both, model):
        assert len(shown(manager_staff.get(url(model, "changelist")))) == 2

    def test_reception_opens_no_clinical_record(self, reception_staff, signed, records_of_both):
        plan = TreatmentPlan.objects.first()
        for address in (
            url("treatmentnote", "changelist"),
            url("treatmentnote", "change", signed.pk),
            url("treatmentplan", "change", plan.pk),
            url("intake", "clear", Intake.objects.first().pk),
            url("treatmentnote", "addendum", signed.pk),
        ):
            assert reception_staff.get(address).status_code == 403, address

    def test_a_practitioner_offers_only_their_patients_when_entering_records(
        self, practitioner_staff, records_of_both, stranger
    ):
        response = practitioner_staff.post(
            url("outcomemeasure", "add"),
            {
                "patient": stranger.pk,
                "kind": "pain",
                "recorded_at_0": TODAY.isoformat(),
                "recorded_at_1": "07:00",
                "pain": "3",
            },
        )

        assert response.status_code == 200
        assert "patient" in response.context["adminform"].form.errors
        assert OutcomeMeasure.objects.filter(patient=stranger).count() == 1
