"""Patients and their clinical records are never deleted — PostgreSQL refuses, whoever asks —
and a closed record is archived instead: kept whole, hidden from everyone but managers,
taking no bookings."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from appointments.services import book_appointment
from audit.models import Action, AuditEntry
from kernel.errors import DomainError
from patients.models import Patient
from records.services import archive_patient
from tests.factories import AppointmentFactory
from tests.fixtures.clinic import TODAY, at
from treatments.models import TreatmentNote
from treatments.services import (
    clear_red_flags,
    create_plan,
    record_pain,
    start_note,
    submit_intake,
)

THURSDAY = TODAY + timedelta(days=3)


@pytest.fixture
def session(assessed_patient, myotherapist, myotherapy, location, treatment_rooms):
    return AppointmentFactory(
        patient=assessed_patient,
        practitioner=myotherapist,
        service=myotherapy,
        location=location,
        room=treatment_rooms[0],
        start=at(TODAY - timedelta(days=1), 10),
    )


@pytest.fixture
def clinical_records(assessed_patient, myotherapist, session):
    intake = submit_intake(
        patient=assessed_patient,
        answers={
            "complaint": "Back",
            "pain_score": 6,
            "duration": "acute",
            "activity": "sedentary",
            "red_flags": ["fever"],
        },
        entered_by=None,
    )
    clear_red_flags(intake=intake, cleared_by=myotherapist.user, cleared_on=TODAY, note="GP ok")
    create_plan(
        patient=assessed_patient,
        practitioner=myotherapist,
        goals="Run",
        phases=[{"phase": "release", "planned_sessions": 3, "sessions_per_week": 1}],
    )
    record_pain(patient=assessed_patient, score=4, by=None)
    return assessed_patient


def delete_all_from(table: str) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")


class TestNoHardDeletes:
    @pytest.mark.parametrize(
        "table",
        [
            "patients_patient",
            "treatments_intake",
            "treatments_redflagclearance",
            "treatments_treatmentplan",
            "treatments_planphase",
            "treatments_outcomemeasure",
        ],
    )
    def test_raw_sql_cannot_delete_a_patient_or_a_clinical_record(self, clinical_records, table):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table}")
            [before] = cursor.fetchone()

        with pytest.raises(IntegrityError, match="never deleted"):
            delete_all_from(table)

        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table}")
            assert cursor.fetchone() == (before,) and before > 0

    def test_nor_can_the_orm(self, patient):
        with pytest.raises(IntegrityError, match="never deleted"), transaction.atomic():
            Patient.objects.filter(pk=patient.pk).delete()

        assert Patient.objects.filter(pk=patient.pk).exists()

    def test_a_draft_note_is_not_yet_a_record_and_may_be_discarded(self, session, myotherapist):
        draft = start_note(appointment=session, author=myotherapist)

        TreatmentNote.objects.filter(pk=draft.pk).delete()

        assert not TreatmentNote.objects.filter(pk=draft.pk).exists()

    def test_emptying_the_tables_for_tests_still_works(self, clinical_records):
        """Row triggers only: TRUNCATE, which flushes a transactional test's database, is
        not refused (here rolled back)."""
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # as a flush commits first
                cursor.execute("TRUNCATE patients_patient CASCADE")
            assert not Patient.objects.exists()
            transaction.set_rollback(True)

        assert Patient.objects.filter(pk=clinical_records.pk).exists()

    @pytest.mark.parametrize(
        "model",
        [
            "patients/patient",
            "treatments/treatmentnote",
            "treatments/treatmentplan",
            "treatments/intake",
        ],
    )
    def test_the_admin_offers_no_delete_even_to_managers(self, manager_staff, model):
        response = manager_staff.get(reverse(f"admin:{model.replace('/', '_')}_changelist"))

        assert response.status_code == 200
        assert "delete_selected" not in response.content.decode()


class TestArchiving:
    def test_an_archived_record_is_kept_inactive_with_who_and_why(self, patient, manager):
        archive_patient(patient=patient, by=manager, reason="Moved to Perth")

        patient.refresh_from_db()
        assert (patient.is_active, patient.archived_by, patient.archive_reason) == (
            False,
            manager,
            "Moved to Perth",
        )
        [entry] = AuditEntry.objects.filter(action=Action.ARCHIVE)
        assert (entry.patient, entry.actor, entry.actor_role) == (patient, manager, "manager")

    def test_it_needs_a_reason(self, patient, manager):
        with pytest.raises(DomainError) as refused:
            archive_patient(patient=patient, by=manager, reason="  ")

        assert refused.value.fields == {"reason": ["Say why the record is archived."]}

    def test_not_while_appointments_are_to_come(
        self, assessed_patient, manager, myotherapy, myotherapist
    ):
        book_appointment(
            patient=assessed_patient,
            service=myotherapy,
            practitioner=myotherapist,
            start=at(THURSDAY, 10),
        )

        with pytest.raises(DomainError) as refused:
            archive_patient(patient=assessed_patient, by=manager, reason="Moved")

        assert refused.value.code == "patient_has_upcoming_appointments"
        assert not AuditEntry.objects.filter(action=Action.ARCHIVE).exists()

    def test_the_database_keeps_an_archived_record_inactive(self, patient, manager):
        archive_patient(patient=patient, by=manager, reason="Moved")

        with pytest.raises(IntegrityError, match="archived"), transaction.atomic():
            Patient.objects.filter(pk=patient.pk).update(is_active=True)

    def test_an_archived_patient_cannot_book(
        self, assessed_patient, manager, myotherapy, myotherapist
    ):
        archive_patient(patient=assessed_patient, by=manager, reason="Moved")

        with pytest.raises(DomainError) as refused:
            book_appointment(
                patient=assessed_patient,
                service=myotherapy,
                practitioner=myotherapist,
                start=at(THURSDAY, 10),
            )

        assert refused.value.code == "patient_archived"

    def test_online_either_409(
        self, as_patient, assessed_patient, manager, myotherapy, myotherapist
    ):
        archive_patient(patient=assessed_patient, by=manager, reason="Moved")

        response = as_patient.post(
            "/api/v1/appointments/",
            {
                "service": myotherapy.pk,
                "practitioner": myotherapist.pk,
                "start": "2027-03-25T10:00:00+11:00",
            },
        )

        assert response.status_code == 409
        assert response.json()["code"] == "patient_archived"

    def test_hidden_from_reception_but_not_from_managers(
        self, as_reception, as_manager, patient, manager
    ):
        archive_patient(patient=patient, by=manager, reason="Deceased")

        def found_by(client) -> list[int]:
            body = client.get("/api/v1/patients/", {"q": patient.last_name}).json()
            return [row["id"] for row in body["results"]]

        assert found_by(as_reception) == []
        assert found_by(as_manager) == [patient.pk]
        assert as_reception.get(f"/api/v1/patients/{patient.pk}/").status_code == 404

    def test_the_patient_still_gets_their_record(self, as_patient, assessed_patient, manager):
        archive_patient(patient=assessed_patient, by=manager, reason="Moved")

        body = as_patient.get("/api/v1/patients/me/export/").json()

        assert body["patient"]["archived_at"] is not None


class TestArchivingInTheAdmin:
    CHANGELIST = "admin:patients_patient_changelist"

    def test_a_manager_archives_with_a_reason(self, manager_staff, patient, other_patient):
        asked = manager_staff.post(
            reverse(self.CHANGELIST),
            {"action": "archive_selected", "_selected_action": [patient.pk, other_patient.pk]},
        )
        assert asked.status_code == 200
        assert "Archive patient records" in asked.content.decode()

        response = manager_staff.post(
            reverse(self.CHANGELIST),
            {
                "action": "archive_selected",
                "_selected_action": [patient.pk, other_patient.pk],
                "archive": "Archive",
                "reason": "Duplicate records merged elsewhere",
            },
        )

        assert response.status_code == 302
        assert Patient.objects.filter(archived_at__isnull=False).count() == 2
        assert AuditEntry.objects.filter(action=Action.ARCHIVE).count() == 2

    def test_reception_is_not_offered_the_action(self, reception_staff, patient):
        page = reception_staff.get(reverse(self.CHANGELIST))

        assert "archive_selected" not in page.content.decode()

    def test_the_archived_record_shows_who_and_why(self, manager_staff, patient, manager):
        archive_patient(patient=patient, by=manager, reason="Moved to Perth")

        page = manager_staff.get(reverse("admin:patients_patient_change", args=[patient.pk]))

        assert "Moved to Perth" in page.content.decode()
        assert page.context["adminform"].form.fields.get("is_active") is None  # read-only
