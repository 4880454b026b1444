"""`POST /appointments/` in the schema: patients book for themselves, so `patient` is not
required there; staff must name it (issue 16)."""

from django.test import Client


def booking_request_schema() -> dict:
    schema = Client().get("/api/schema/?format=json").json()
    body = schema["paths"]["/api/v1/appointments/"]["post"]["requestBody"]
    reference = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    return schema["components"]["schemas"][reference]


def test_patient_is_optional_in_the_schema_and_documented_as_staffs():
    request = booking_request_schema()

    assert set(request["required"]) == {"service", "practitioner", "start"}
    assert "Staff: required" in request["properties"]["patient"]["description"]
    assert "Patients: leave it out" in request["properties"]["patient"]["description"]
    assert "Staff only" in request["properties"]["note"]["description"]
