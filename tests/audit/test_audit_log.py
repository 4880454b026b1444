"""The audit log keeps what it was given: the database refuses to change or remove an entry."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import RequestFactory

from accounts.roles import roles_of
from audit.models import Action, AuditEntry
from audit.services import record, record_reads, source_address
from tests.factories import PatientFactory


@pytest.fixture
def entry(patient, reception_user):
    request = RequestFactory().get("/api/v1/patients/", REMOTE_ADDR="203.0.113.7")
    request.user = reception_user
    return record(Action.READ, request=request, obj=patient, detail={"path": request.path})


def test_an_entry_names_actor_object_patient_and_address(entry, patient, reception_user):
    entry.refresh_from_db()
    assert (entry.actor, entry.actor_label, entry.action) == (
        reception_user,
        "reception@clinic.example",
        "read",
    )
    assert (entry.object_type, entry.object_id, entry.patient) == (
        "patients.patient",
        str(patient.pk),
        patient,
    )
    assert entry.source_ip == "203.0.113.7"
    assert entry.detail == {"path": "/api/v1/patients/"}


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_auditentry SET action = 'create'", "DELETE FROM audit_auditentry"],
)
def test_the_database_refuses_to_change_or_delete_an_entry(entry, statement):
    with (
        pytest.raises(IntegrityError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert AuditEntry.objects.filter(pk=entry.pk, action=Action.READ).exists()


def test_the_orm_cannot_change_or_delete_an_entry_either(entry):
    entry.action = Action.CREATE
    with pytest.raises(IntegrityError), transaction.atomic():
        entry.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.get(pk=entry.pk).action == Action.READ


def test_reads_of_a_list_are_one_entry_per_record_in_one_insert(
    django_assert_num_queries, reception_user
):
    patients = PatientFactory.create_batch(3)
    request = RequestFactory().get("/api/v1/patients/")
    request.user = reception_user
    roles_of(reception_user)  # worked out once per request, by the permission checks
    with django_assert_num_queries(1):
        assert record_reads(request, patients) == 3
    assert sorted(AuditEntry.objects.values_list("patient_id", flat=True)) == sorted(
        p.pk for p in patients
    )


def test_forwarded_for_is_believed_only_when_configured(settings):
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.9, 10.0.0.1"
    )
    settings.AUDIT_TRUST_FORWARDED_FOR = False
    assert source_address(request) == "10.0.0.2"
    settings.AUDIT_TRUST_FORWARDED_FOR = True
    assert source_address(request) == "198.51.100.9"
