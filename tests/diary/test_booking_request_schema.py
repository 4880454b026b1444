"""`POST /appointments/` in the schema: patients book for themselves, so `patient` is not
required there; staff must name it (issue 16). A booking with a hold names no time (17)."""

from django.test import Client


def booking_request_schema() -> dict:
    schema = Client().get("/api/schema/?format=json").json()
    body = schema["paths"]["/api/v1/appointments/"]["post"]["requestBody"]
    reference = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    return schema["components"]["schemas"][reference]


def test_patient_is_optional_in_the_schema_and_documented_as_staffs():
    request = booking_request_schema()

    # With a hold (issue 17) the booked time is the hold's: service, practitioner and start
    # are then left out, so the schema requires none of them and says when they are needed.
    assert "required" not in request
    for name in ("service", "practitioner", "start"):
        assert "Required unless `hold` is given" in request["properties"][name]["description"]
    assert request["properties"]["hold"]["format"] == "uuid"
    assert "Staff: required" in request["properties"]["patient"]["description"]
    assert "Patients: leave it out" in request["properties"]["patient"]["description"]
    assert "Staff only" in request["properties"]["note"]["description"]
