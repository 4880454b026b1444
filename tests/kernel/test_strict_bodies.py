"""A request body holds only what the request writes: an unknown or read-only field is a
400 naming it, never dropped in silence (issue 16); and every serializer the API reads a
body with is built that way."""

import importlib
import inspect

import pytest
from rest_framework import serializers

import kernel.rest
from audit.models import Action, AuditEntry
from patients.models import Patient
from tests.treatments.api_helpers import INTAKE_ANSWERS, MY_INTAKE

pytestmark = pytest.mark.usefixtures("frozen_now", "fresh_throttles")

ME = "/api/v1/patients/me/"

API_MODULES = [
    "accounts.api",
    "care.api",
    "diary.api",
    "notifications.api",
    "patients.api",
    "patients.serializers",
    "practice.api",
    "records.api",
    "treatments.api.common",
    "treatments.api.intake",
    "treatments.api.notes",
    "treatments.api.outcomes",
    "treatments.api.plans",
    "treatments.api.progress",
]
# They read query strings, which carry more than their fields (`format`, `page`).
QUERY_SERIALIZERS = {"AvailabilityQuerySerializer", "PatientSearchSerializer"}


def test_a_profile_change_with_a_read_only_field_is_refused_naming_it(as_patient, assessed_patient):
    """`email` answered 200, was ignored, and wrote an audit entry that named nothing."""
    response = as_patient.patch(ME, {"email": "new@example.com", "consent_sms": True})

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["email"]
    assert "Read only" in response.json()["fields"]["email"][0]
    assessed_patient.refresh_from_db()
    assert assessed_patient.consent_sms is False
    assert not AuditEntry.objects.filter(action=Action.UPDATE).exists()


def test_an_unknown_field_is_refused_naming_it(as_patient):
    response = as_patient.patch(ME, {"favourite_colour": "blue", "mobile": "0498 765 432"})

    assert response.status_code == 400
    assert response.json()["fields"] == {
        "favourite_colour": ["Unknown field: this request does not take it."],
        "mobile": ["Unknown field: this request does not take it."],
    }


def test_a_field_the_patient_may_not_send_is_refused_naming_it(as_patient, assessed_patient):
    response = as_patient.post(MY_INTAKE, {**INTAKE_ANSWERS, "patient": 1})

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["patient"]


def test_a_change_that_changes_nothing_writes_no_empty_update(as_patient, assessed_patient):
    response = as_patient.patch(ME, {"consent_sms": False})

    assert response.status_code == 200
    assert [entry.action for entry in AuditEntry.objects.all()] == [Action.READ]
    assert AuditEntry.objects.get().detail.get("fields") is None


def serializers_of_the_api():
    for module_name in API_MODULES:
        module = importlib.import_module(module_name)
        for name, value in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(value, serializers.BaseSerializer)
                and value.__module__ == module_name
                and name not in QUERY_SERIALIZERS
            ):
                yield value


@pytest.mark.parametrize("serializer", list(serializers_of_the_api()), ids=lambda s: s.__name__)
def test_every_serializer_of_the_api_refuses_unknown_fields(serializer):
    assert issubclass(serializer, kernel.rest.RefusesUnknownFields)


def test_the_profile_says_phone_as_registration_does(as_patient):
    """API.md: registration takes `phone`; the profile said `mobile`."""
    body = as_patient.get(ME).json()

    assert "phone" in body and "mobile" not in body
    assert Patient.objects.get().mobile == body["phone"]


def test_a_patient_booking_for_someone_is_refused_naming_patient(as_patient, other_patient_user):
    """The schema leaves `patient` to staff; a patient who sends it learns it is not theirs."""
    response = as_patient.post(
        "/api/v1/appointments/",
        {
            "service": 1,
            "practitioner": 1,
            "start": "2027-03-23T10:00:00+11:00",
            "patient": other_patient_user.patient.pk,
        },
        format="json",
    )

    assert response.status_code == 400
    assert "patient" in response.json()["fields"]
