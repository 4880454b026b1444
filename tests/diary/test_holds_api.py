"""`POST /api/v1/holds/`, `DELETE /api/v1/holds/{id}/` and `POST /api/v1/appointments/` with
a hold, through each door: a visitor, a patient, another patient, staff."""

from datetime import timedelta

import pytest

from appointments.models import Appointment, SlotHold
from tests.fixtures.clinic import TODAY

pytestmark = pytest.mark.usefixtures("frozen_now", "fresh_throttles")

HOLDS = "/api/v1/holds/"
APPOINTMENTS = "/api/v1/appointments/"
AVAILABILITY = "/api/v1/availability/"
TUESDAY = TODAY + timedelta(days=1)
AT_TEN = "2027-03-23T10:00:00+11:00"


def slot(service, practitioner, start=AT_TEN, **more):
    return {"service": service.pk, "practitioner": practitioner.pk, "start": start, **more}


def starts_offered(client, service, practitioner):
    body = client.get(
        AVAILABILITY,
        {"service": service.pk, "from": TUESDAY, "to": TUESDAY, "practitioner": practitioner.pk},
    ).json()
    return {s["start"] for s in body["slots"]}


class TestHolding:
    def test_a_visitor_holds_a_time(self, anonymous, assessment, myotherapist, location, settings):
        settings.HOLD_MINUTES = 7

        response = anonymous.post(HOLDS, slot(assessment, myotherapist))

        assert response.status_code == 201, response.json()
        body = response.json()
        hold = SlotHold.objects.get()
        assert body == {
            "id": str(hold.pk),
            "service": assessment.pk,
            "practitioner": myotherapist.pk,
            "location": location.pk,
            "start": AT_TEN,
            "end": "2027-03-23T11:00:00+11:00",
            "expires_at": "2027-03-22T08:07:00+11:00",
        }
        assert hold.patient is None and hold.client_ip == "127.0.0.1"

    def test_a_patients_hold_is_theirs(self, as_patient, patient_user, assessment, myotherapist):
        response = as_patient.post(HOLDS, slot(assessment, myotherapist))

        assert response.status_code == 201
        assert SlotHold.objects.get().patient == patient_user.patient

    def test_the_held_time_is_offered_to_nobody(
        self, anonymous, as_reception, as_other_patient, assessment, myotherapist
    ):
        assert AT_TEN in starts_offered(anonymous, assessment, myotherapist)

        anonymous.post(HOLDS, slot(assessment, myotherapist))

        for client in (anonymous, as_other_patient, as_reception):
            assert AT_TEN not in starts_offered(client, assessment, myotherapist)

    def test_someone_else_cannot_hold_or_book_it(
        self, anonymous, as_other_patient, assessment, myotherapist
    ):
        anonymous.post(HOLDS, slot(assessment, myotherapist))

        held = as_other_patient.post(HOLDS, slot(assessment, myotherapist))
        booked = as_other_patient.post(APPOINTMENTS, slot(assessment, myotherapist))

        assert held.status_code == booked.status_code == 409
        assert held.json()["code"] == booked.json()["code"] == "slot_unavailable"

    def test_the_booking_rules_answer_as_for_a_booking(self, anonymous, assessment, myotherapist):
        response = anonymous.post(
            HOLDS, slot(assessment, myotherapist, start="2027-03-22T09:00:00+11:00")
        )

        assert response.status_code == 409
        assert response.json()["code"] == "inside_lead_time"

    def test_a_bad_body_is_a_400(self, anonymous, assessment, myotherapist):
        response = anonymous.post(HOLDS, {"service": assessment.pk, "colour": "red"})

        assert response.status_code == 400
        assert "colour" in response.json()["fields"]

    def test_a_visitors_address_is_limited(self, anonymous, assessment, myotherapist, settings):
        settings.HOLDS_PER_IP = 1
        anonymous.post(HOLDS, slot(assessment, myotherapist))

        response = anonymous.post(
            HOLDS, slot(assessment, myotherapist, start="2027-03-23T14:00:00+11:00")
        )

        assert response.status_code == 429
        assert response.json()["code"] == "too_many_holds"

    def test_a_patient_is_limited(self, as_patient, assessment, myotherapist, settings):
        settings.HOLDS_PER_PATIENT = 1
        as_patient.post(HOLDS, slot(assessment, myotherapist))

        response = as_patient.post(
            HOLDS, slot(assessment, myotherapist, start="2027-03-23T14:00:00+11:00")
        )

        assert response.status_code == 429
        assert response.json()["code"] == "too_many_holds"


class TestReleasing:
    def test_whoever_has_the_id_releases_it(
        self, anonymous, as_other_patient, assessment, myotherapist
    ):
        hold_id = anonymous.post(HOLDS, slot(assessment, myotherapist)).json()["id"]

        response = anonymous.delete(f"{HOLDS}{hold_id}/")

        assert response.status_code == 204
        assert not SlotHold.objects.exists()
        assert (
            as_other_patient.post(APPOINTMENTS, slot(assessment, myotherapist)).status_code == 201
        )

    def test_an_unknown_hold_is_released_all_the_same(self, db, anonymous):
        response = anonymous.delete(f"{HOLDS}00000000-0000-0000-0000-000000000000/")

        assert response.status_code == 204

    def test_a_malformed_id_is_a_404(self, anonymous):
        assert anonymous.delete(f"{HOLDS}not-a-uuid/").status_code == 404


class TestBookingWithTheHold:
    def test_the_hold_alone_books_its_time(self, anonymous, as_patient, assessment, myotherapist):
        hold_id = anonymous.post(HOLDS, slot(assessment, myotherapist)).json()["id"]

        response = as_patient.post(APPOINTMENTS, {"hold": hold_id})

        assert response.status_code == 201, response.json()
        assert response.json()["start"] == AT_TEN
        assert Appointment.objects.get(pk=response.json()["id"]).service == assessment
        assert not SlotHold.objects.exists()

    def test_the_holds_own_fields_may_be_sent(self, as_patient, assessment, myotherapist):
        hold_id = as_patient.post(HOLDS, slot(assessment, myotherapist)).json()["id"]

        response = as_patient.post(APPOINTMENTS, slot(assessment, myotherapist, hold=hold_id))

        assert response.status_code == 201

    def test_other_fields_than_the_holds_are_refused(self, as_patient, assessment, myotherapist):
        hold_id = as_patient.post(HOLDS, slot(assessment, myotherapist)).json()["id"]

        response = as_patient.post(
            APPOINTMENTS,
            slot(assessment, myotherapist, start="2027-03-23T14:00:00+11:00", hold=hold_id),
        )

        assert response.status_code == 400
        assert set(response.json()["fields"]) == {"start"}
        assert SlotHold.objects.exists()

    def test_an_expired_hold_is_a_409(
        self, as_patient, assessment, myotherapist, frozen_now, settings
    ):
        hold_id = as_patient.post(HOLDS, slot(assessment, myotherapist)).json()["id"]
        frozen_now.shift(timedelta(minutes=settings.HOLD_MINUTES))

        response = as_patient.post(APPOINTMENTS, {"hold": hold_id})

        assert response.status_code == 409
        assert response.json()["code"] == "hold_expired"

    def test_another_patients_hold_is_a_409(
        self, as_patient, as_other_patient, assessment, myotherapist
    ):
        hold_id = as_patient.post(HOLDS, slot(assessment, myotherapist)).json()["id"]

        response = as_other_patient.post(APPOINTMENTS, {"hold": hold_id})

        assert response.status_code == 409
        assert response.json()["code"] == "hold_expired"

    def test_without_a_hold_the_time_is_required(self, as_patient):
        response = as_patient.post(APPOINTMENTS, {})

        assert response.status_code == 400
        assert set(response.json()["fields"]) == {"service", "practitioner", "start"}

    def test_a_hold_is_no_appointment_of_the_patient(self, as_patient, assessment, myotherapist):
        before = as_patient.get(APPOINTMENTS).json()["results"]

        as_patient.post(HOLDS, slot(assessment, myotherapist))

        assert as_patient.get(APPOINTMENTS).json()["results"] == before
