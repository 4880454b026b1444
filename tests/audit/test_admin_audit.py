"""The admin writes the audit log too: a record's page and each row of a list page are
reads; saving a form is a create or an update naming the fields the form changed; the
admin's own actions are updates named after the action."""

from datetime import timedelta

import pytest
from django.urls import reverse

from audit.models import Action, AuditEntry
from tests.factories import AppointmentFactory, PatientFactory
from tests.fixtures.clinic import TODAY, at
from tests.records.test_patient_admin import form_data
from tests.treatments.admin_helpers import SQUAT, posted
from treatments.services import start_note, update_draft


def patient_page(patient) -> str:
    return reverse("admin:patients_patient_change", args=[patient.pk])


def note_page(note) -> str:
    return reverse("admin:treatments_treatmentnote_change", args=[note.pk])


def logged(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("pk"))


@pytest.fixture
def draft(assessed_patient, myotherapist, myotherapy, location, treatment_rooms):
    session = AppointmentFactory(
        patient=assessed_patient,
        practitioner=myotherapist,
        service=myotherapy,
        location=location,
        room=treatment_rooms[0],
        start=at(TODAY - timedelta(days=1), 10),
    )
    note = start_note(appointment=session, author=myotherapist)
    return update_draft(
        note=note, author=myotherapist, changes={"subjective": "Sore."}, exercises=[SQUAT]
    )


def test_a_patients_page_is_a_read_of_their_record(reception_staff, patient):
    reception_staff.get(patient_page(patient))

    [entry] = logged(Action.READ)
    assert (entry.patient, entry.actor_label, entry.actor_role) == (
        patient,
        "desk@clinic.example",
        "reception",
    )
    assert entry.detail == {"path": patient_page(patient)}


def test_the_patient_list_reads_each_row_shown(reception_staff):
    shown = PatientFactory.create_batch(3)

    response = reception_staff.get(reverse("admin:patients_patient_changelist"))

    assert response.status_code == 200
    assert sorted(entry.patient_id for entry in logged(Action.READ)) == sorted(
        patient.pk for patient in shown
    )


def test_a_change_names_the_fields_the_form_changed(reception_staff, patient):
    response = reception_staff.post(
        patient_page(patient), form_data(patient, mobile="0498 765 432")
    )

    assert response.status_code == 302
    [entry] = logged(Action.UPDATE)
    assert (entry.patient, entry.detail["fields"]) == (patient, ["mobile"])
    assert "498" not in str(entry.detail)


def test_a_patient_added_by_reception(reception_staff):
    reception_staff.post(reverse("admin:patients_patient_add"), form_data())

    [entry] = logged(Action.CREATE)
    assert entry.patient.last_name == "Lovelace"


def test_a_draft_saved_with_its_exercise_log(practitioner_staff, draft, assessed_patient):
    page = practitioner_staff.get(note_page(draft))
    assert [entry.object_id for entry in logged(Action.READ)] == [str(draft.pk)]

    response = practitioner_staff.post(
        note_page(draft), posted(page, subjective="Better.", **{"exercises-0-load_kg": "45"})
    )

    assert response.status_code == 302
    [entry] = logged(Action.UPDATE)
    assert (entry.object_type, entry.patient, entry.detail["fields"]) == (
        "treatments.treatmentnote",
        assessed_patient,
        ["exercises", "subjective"],
    )


def test_an_admin_action_is_named_in_its_entry(practitioner_staff, draft):
    practitioner_staff.post(
        reverse("admin:treatments_treatmentnote_changelist"),
        {"action": "sign_selected", "_selected_action": [draft.pk]},
    )

    [entry] = logged(Action.UPDATE)
    assert (entry.object_id, entry.detail["change"]) == (str(draft.pk), "Signed.")
