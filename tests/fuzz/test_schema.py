"""Property-based fuzzing of the whole HTTP API from its own OpenAPI schema.

Schemathesis builds requests for every operation of the schema drf-spectacular generates
(the schema's examples, the coverage phase's boundary and invalid values, then random
data, valid and invalid) and sends them to the Django WSGI application in this process, as
each role: nobody, a patient, the front desk, a practitioner and a manager. Every answer
must be a non-5xx response that the schema documents: a status code it lists, its content
type, its headers, and a body that matches the response schema. The clinical records'
operations are fuzzed by tests/fuzz/test_clinical_schema.py, over a clinic that has records.

The clinic is small but real (PostgreSQL, not mocks), and sequences are reset for each
test, so ids 1..n exist. Dictionaries steer part of the generated values towards those ids,
towards dates and slot times of the clinic's frozen week (so some bookings, cancellations
and searches succeed), and towards the edges that break code (year 1, year 9999, NUL).
"""

import copy
from datetime import timedelta

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from drf_spectacular.generators import SchemaGenerator
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_simplejwt.tokens import AccessToken
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from appointments.models import Source, Status
from tests.factories import AppointmentFactory, UserFactory
from tests.fixtures.clinic import TODAY, at
from tests.fuzz.depth import DEEP, EXAMPLES, REFUSED_EXAMPLES, drawing

# Rolled back after each test, ids counted from 1 (tests/fuzz/conftest.py).
pytestmark = pytest.mark.usefixtures("frozen_now", "fresh_throttles")

# The coverage phase's boundary values try how an operation reads its input, which is read
# one way for patients and one way for staff: as the patient and as the manager (who passes
# every staff permission, so the values reach furthest) at make test's depth. Reception and
# the practitioner get the random inputs, and the coverage phase too in CI's deep pass.
COVERED_ROLES = ["patient", "manager"]
OTHER_STAFF_ROLES = ["reception", "practitioner"]
CLINICAL_TAG = "clinical records"
MAX_EXAMPLES = EXAMPLES
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

# Monday 22 March 2027, 08:00 in Melbourne is "now" (each module freezes it: `frozen_now`).
# Daylight saving ends on Sunday 4 April 2027: 2027-04-05 is in +10:00.
DICTIONARIES = {
    "ids": {"values": [1, 2, 3, 4]},
    "dates": {
        "values": [
            "2027-03-22",
            "2027-03-23",
            "2027-03-29",
            "2027-04-04",
            "2027-04-19",
            "1985-06-15",
            "0001-01-01",
            "9999-12-31",
        ]
    },
    "starts": {
        "values": [
            "2027-03-29T10:00:00+11:00",  # free for the patient's myotherapist
            "2027-03-29T11:00:00+11:00",  # the patient's own booking
            "2027-03-23T09:00:00+11:00",
            "2027-04-05T14:15:00+10:00",
            "2027-03-22T08:30:00+11:00",  # inside the online lead time
            "2027-03-29T10:07:00+11:00",  # off the slot grid
            "9999-12-31T23:59:59-12:00",
            "0001-01-01T00:00:00+14:00",
        ]
    },
    "search": {"values": ["Ari", "ari@example.com", "1985-06-15", "0412", "\x00", "9999-12-31"]},
    # Logins that exist (the factories' password), and details a registration accepts.
    "emails": {"values": ["someone@example.com", "ari@example.com", "new@example.com"]},
    "passwords": {"values": ["correct horse battery staple"]},
    "phones": {"values": ["+61412345678", "0412 345 678"]},
}
IDS = {"dictionary": "ids", "probability": 0.5}
DATES = {"dictionary": "dates", "probability": 0.5}
CONFIG = {
    "seed": 20270322,
    "dictionaries": DICTIONARIES,
    "parameters": {
        "path.id": IDS,
        **{f"query.{name}": IDS for name in ("service", "practitioner", "location")},
        **{f"body.{name}": IDS for name in ("service", "practitioner", "location", "patient")},
        "query.from": DATES,
        "query.to": DATES,
        "body.date_of_birth": DATES,
        "body.start": {"dictionary": "starts", "probability": 0.5},
        "query.q": {"dictionary": "search", "probability": 0.5},
        "body.email": {"dictionary": "emails", "probability": 0.5},
        "body.password": {"dictionary": "passwords", "probability": 0.5},
        "body.phone": {"dictionary": "phones", "probability": 0.5},
        "body.mobile": {"dictionary": "phones", "probability": 0.5},
    },
    # Each role sends its own credentials (or none): no invented tokens or cookies.
    "generation": {"with-security-parameters": False},
}

SPEC = SchemaGenerator().get_schema(request=None, public=True)
# The operations an anonymous caller is refused before anything they send is read: the
# schema lists no empty security requirement (`{}`) for them.
SIGNED_IN_ONLY = {
    (method.upper(), path)
    for path, operations in SPEC["paths"].items()
    for method, operation in operations.items()
    if operation.get("security") and {} not in operation["security"]
}


def needs_sign_in(context) -> bool:
    return (context.operation.method.upper(), context.operation.path) in SIGNED_IN_ONLY


def api_operations(config: dict):
    operations = schemathesis.openapi.from_dict(
        copy.deepcopy(SPEC), config=schemathesis.Config.from_dict(config)
    ).exclude(tag=CLINICAL_TAG)
    operations.app = get_wsgi_application()  # in-process: straight into Django's WSGI handler
    return operations


schema = api_operations(CONFIG)
random_schema = api_operations({**CONFIG, "phases": {"coverage": {"enabled": False}}})
# Anonymous callers of the rest: the coverage phase's hundreds of boundary values per
# operation would test the 401 hundreds of times (as in test_clinical_schema.py).
refused_schema = random_schema.include(needs_sign_in)


@pytest.fixture(autouse=True)
def _in_process_host(settings):
    # The WSGI transport sends `Host: localhost`; the test settings only allow "testserver".
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]


@pytest.fixture(autouse=True)
def _no_throttling(monkeypatch):
    """Let the fuzz reach the views instead of a wall of 429s (tests/accounts/test_auth_api.py tests
    the throttles). DRF copied the rates onto the class when it was defined."""
    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        {"auth": "100000/minute", "booking": "100000/minute", "account_email": "100000/minute"},
    )


@pytest.fixture
def clinic(
    location, treatment_rooms, gym, assessment, myotherapy, nmpt, myotherapist, coach, patient_user
):
    """Location 1 (Richmond) with rooms 1-3; services 1 (assessment), 2 (myotherapy) and
    3 (NMPT); practitioners 1 (Mia, every day 9-17) and 2 (Cal, a coach); the patient Ari,
    assessed last month (appointment 1), booked with Mia next Monday at 11:00 (appointment 2)."""
    AppointmentFactory(
        patient=patient_user.patient,
        practitioner=myotherapist,
        service=myotherapy,
        location=location,
        room=treatment_rooms[1],
        start=at(TODAY + timedelta(days=7), 11),
        status=Status.BOOKED,
        source=Source.ONLINE,
    )
    # A login for /auth/token/ to find (the factories' password is in tests/factories.py).
    UserFactory(email="someone@example.com")
    return patient_user


@pytest.fixture
def credentials(request, clinic, reception, as_practitioner, myotherapist, manager):
    """The role's bearer token: practitioner 1 (Mia) treats the patient."""
    user = {
        "anonymous": None,
        "patient": clinic,
        "reception": reception,
        "practitioner": myotherapist.user,
        "manager": manager,
    }[request.param]
    return {"Authorization": f"Bearer {AccessToken.for_user(user)}"} if user else {}


@pytest.mark.parametrize("credentials", COVERED_ROLES, indirect=True)
@schema.parametrize()
@drawing(MAX_EXAMPLES)
def test_every_answer_is_documented_and_no_server_error(case, credentials):
    case.call_and_validate(headers=credentials, checks=CHECKS)


@pytest.mark.parametrize("credentials", OTHER_STAFF_ROLES, indirect=True)
@(schema if DEEP else random_schema).parametrize()
@drawing(MAX_EXAMPLES)
def test_every_answer_to_the_other_staff_is_documented_and_no_server_error(case, credentials):
    case.call_and_validate(headers=credentials, checks=CHECKS)


@pytest.mark.parametrize("credentials", ["anonymous"], indirect=True)
@schema.exclude(needs_sign_in).parametrize()
@drawing(MAX_EXAMPLES)
def test_what_anyone_may_call_is_documented_and_no_server_error(case, credentials):
    case.call_and_validate(headers=credentials, checks=CHECKS)


@pytest.mark.parametrize("credentials", ["anonymous"], indirect=True)
@refused_schema.parametrize()
@drawing(REFUSED_EXAMPLES)
def test_the_rest_refuses_anonymous_callers_whatever_they_send(case, credentials):
    response = case.call_and_validate(headers=credentials, checks=CHECKS)

    if response.status_code == 400:
        # DRF negotiates the answer's format before it authenticates: an unknown `format`
        # is refused first, and says nothing but that.
        assert set(response.json()["fields"]) == {"format"}, response.text
    else:
        # 404: a path the URL configuration does not match (an id with a dot or a slash).
        assert response.status_code in {401, 404}, response.text


# Inputs at the edges that random generation reaches too rarely to rely on, each held to
# the same checks. Ids are the `clinic` fixture's.
EDGES = {
    "window at the end of the calendar": (
        "anonymous",
        "GET /api/v1/availability/",
        {"query": {"service": 1, "from": "9999-12-31", "to": "9999-12-31"}},
    ),
    "window at the start of the calendar": (
        "reception",
        "GET /api/v1/availability/",
        {"query": {"service": 1, "from": "0001-01-01", "to": "0001-01-31"}},
    ),
    "appointments up to the last date": (
        "reception",
        "GET /api/v1/appointments/",
        {"query": {"to": "9999-12-31"}},
    ),
    "appointments from the first date": (
        "patient",
        "GET /api/v1/appointments/",
        {"query": {"from": "0001-01-01"}},
    ),
    "page 0 of a list": ("anonymous", "GET /api/v1/services/", {"query": {"page": 0}}),
    "page past the end of a list": (
        "reception",
        "GET /api/v1/appointments/",
        {"query": {"page": 99}},
    ),
    "NUL in a patient search": ("reception", "GET /api/v1/patients/", {"query": {"q": "\x00"}}),
    "an id that is not an integer": (
        "anonymous",
        "GET /api/v1/locations/{id}/",
        {"path_parameters": {"id": "0.5"}},
    ),
    "a patient reads their appointment": (
        "patient",
        "GET /api/v1/appointments/{id}/",
        {"path_parameters": {"id": 2}},
    ),
    "a patient books a free slot": (
        "patient",
        "POST /api/v1/appointments/",
        {"body": {"service": 2, "practitioner": 1, "start": "2027-03-29T10:00:00+11:00"}},
    ),
    "an impossible minute": (
        "patient",
        "POST /api/v1/appointments/",
        {"body": {"service": 2, "practitioner": 1, "start": "2027-03-29T10:99:00+11:00"}},
    ),
    "a move to the end of the calendar": (
        "patient",
        "POST /api/v1/appointments/{id}/reschedule/",
        {"path_parameters": {"id": 2}, "body": {"start": "9999-12-31T23:59:59-12:00"}},
    ),
    "a body without a media type": (
        "patient",
        "PATCH /api/v1/patients/me/",
        {"body": "first_name=Ada", "media_type": "multipart/form-data"},
    ),
}


@pytest.mark.parametrize(
    ("credentials", "operation", "data"),
    [pytest.param(*edge, id=name) for name, edge in EDGES.items()],
    indirect=["credentials"],
)
def test_edge_inputs_are_answered_within_the_schema(credentials, operation, data):
    method, path = operation.split()
    if "body" in data:
        data = {"media_type": "application/json", **data}
    case = schema[path][method].Case(**data)
    case.call_and_validate(headers=credentials, checks=CHECKS)
