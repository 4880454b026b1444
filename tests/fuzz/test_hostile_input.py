"""JSON that Python reads but the clinic cannot hold is a 400 that names where, never a 5xx
(issue 13, item 11): deep nesting, non-finite numbers, floats where an id goes, lone
surrogates. tests/security/test_input_fuzz.py throws the same at every write operation."""

import json
from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from appointments.models import Appointment
from tests.fixtures.api_clients import client_for
from tests.fixtures.clinic import TODAY

pytestmark = [pytest.mark.usefixtures("frozen_now", "fresh_throttles"), pytest.mark.django_db]

TOKEN = "/api/v1/auth/token/"
REGISTER = "/api/v1/auth/register/"
REFRESH = "/api/v1/auth/token/refresh/"
BOOK = "/api/v1/appointments/"
NEXT_MONDAY = TODAY + timedelta(days=7)


def post(client: APIClient, path: str, raw: str):
    return client.generic("POST", path, raw, content_type="application/json")


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.fixture
def anonymous() -> APIClient:
    # raise_request_exception off: a crash must show as the 500 a client would get.
    client = APIClient(raise_request_exception=False)
    return client


@pytest.mark.parametrize("path", [TOKEN, REGISTER, REFRESH])
@pytest.mark.parametrize("depth", [40, 100_000])
def test_deep_nesting_on_the_public_auth_endpoints_is_a_400(anonymous, path, depth):
    answer = post(anonymous, path, '{"email": ' + nested(depth) + "}")

    assert answer.status_code == 400
    assert answer.json()["code"] == "parse_error"
    assert "nested deeper than 16 levels" in answer.json()["detail"]


def test_the_nesting_error_names_the_field(anonymous):
    answer = post(anonymous, TOKEN, '{"email": ' + nested(40) + ', "password": "x"}')

    assert answer.json()["detail"].startswith("email.0.0.")


@pytest.mark.parametrize("number", ["1e999", "-1e999", "NaN", "Infinity", "-Infinity"])
def test_a_non_finite_number_is_a_400_naming_the_field(patient_user, myotherapist, number):
    client = client_for(patient_user)
    client.raise_request_exception = False
    body = (
        f'{{"service": {number}, "practitioner": {myotherapist.pk}, '
        f'"start": "{NEXT_MONDAY.isoformat()}T10:00:00+11:00"}}'
    )

    answer = post(client, BOOK, body)

    assert answer.status_code == 400
    assert answer.json()["detail"] == f"service: {number} is not a finite number."


@pytest.mark.parametrize("service_id", ["{pk}.5", "{pk}.0", "true", '"{pk}.5"', '"\\u0661"', "0"])
def test_an_id_is_a_whole_number_not_a_float(patient_user, myotherapy, myotherapist, service_id):
    """Django reads 1.5 as id 1: a patient would have been booked for service 1."""
    client = client_for(patient_user)
    body = {
        "practitioner": myotherapist.pk,
        "start": f"{NEXT_MONDAY.isoformat()}T10:00:00+11:00",
    }
    raw = json.dumps(body)[:-1] + f', "service": {service_id.format(pk=myotherapy.pk)}}}'

    answer = post(client, BOOK, raw)

    assert answer.status_code == 400, answer.json()
    assert list(answer.json()["fields"]) == ["service"]
    assert not Appointment.objects.filter(patient=patient_user.patient, service=myotherapy)


def test_a_huge_id_is_no_such_record(as_reception, myotherapy, myotherapist):
    answer = as_reception.post(
        BOOK,
        {
            "service": myotherapy.pk,
            "practitioner": myotherapist.pk,
            "start": f"{NEXT_MONDAY.isoformat()}T10:00:00+11:00",
            "patient": 10**30,
        },
        format="json",
    )

    assert answer.status_code == 400
    assert list(answer.json()["fields"]) == ["patient"]


def test_a_lone_surrogate_is_a_400_naming_the_field(as_patient):
    answer = as_patient.generic(
        "PATCH", "/api/v1/patients/me/", '{"first_name": "Ad\\ud800a"}', "application/json"
    )

    assert answer.status_code == 400
    assert answer.json()["detail"].startswith("first_name: a lone surrogate")


@pytest.mark.parametrize("value", ["1e999", "NaN", "1.5", "Infinity", "99999999999999999999"])
def test_an_id_filter_in_a_query_is_a_400_naming_it(as_reception, value):
    as_reception.raise_request_exception = False

    answer = as_reception.get("/api/v1/notifications/", {"patient": value})

    assert answer.status_code == 400
    assert list(answer.json()["fields"]) == ["patient"]


def test_an_email_longer_than_any_login_is_a_400_not_a_lockout_crash(anonymous):
    """The lockout counter stores the email as typed, in 255 characters."""
    answer = anonymous.post(TOKEN, {"email": "x" * 300, "password": "x"}, format="json")

    assert answer.status_code == 400
    assert list(answer.json()["fields"]) == ["email"]
