"""The patient's word that they will come: `confirm_appointment` and
POST /appointments/{id}/confirm/."""

from datetime import timedelta

import pytest

from appointments.models import ConfirmedVia, Status
from appointments.services import (
    book_appointment,
    cancel_appointment,
    confirm_appointment,
    reschedule_appointment,
)
from kernel.errors import DomainError
from tests.fixtures.clinic import NOW, TODAY, at

pytestmark = pytest.mark.usefixtures("frozen_now", "fresh_throttles")

APPOINTMENTS = "/api/v1/appointments/"
THURSDAY = TODAY + timedelta(days=3)


@pytest.fixture
def appointment(assessed_patient, myotherapy, myotherapist):
    return book_appointment(
        patient=assessed_patient,
        service=myotherapy,
        practitioner=myotherapist,
        start=at(THURSDAY, 10),
    )


class TestConfirmAppointment:
    def test_the_patient_confirms_a_booking_ahead(self, appointment):
        confirmed = confirm_appointment(appointment=appointment, via=ConfirmedVia.SMS_REPLY)

        appointment.refresh_from_db()
        assert confirmed.confirmed_at == NOW == appointment.confirmed_at
        assert appointment.confirmed_via == ConfirmedVia.SMS_REPLY
        assert appointment.status == Status.BOOKED

    def test_confirming_again_keeps_the_first_confirmation(self, appointment, frozen_now):
        confirm_appointment(appointment=appointment, via=ConfirmedVia.SMS_REPLY)
        frozen_now.shift(timedelta(hours=1))

        confirm_appointment(appointment=appointment, via=ConfirmedVia.LINK)

        appointment.refresh_from_db()
        assert appointment.confirmed_at == NOW
        assert appointment.confirmed_via == ConfirmedVia.SMS_REPLY

    def test_a_cancelled_booking_cannot_be_confirmed(self, appointment, reception):
        cancel_appointment(appointment=appointment, by=reception, reason="Flu")

        with pytest.raises(DomainError) as refused:
            confirm_appointment(appointment=appointment, via=ConfirmedVia.SMS_REPLY)

        assert refused.value.code == "not_confirmable"
        appointment.refresh_from_db()
        assert appointment.confirmed_at is None

    def test_a_booking_that_has_started_cannot_be_confirmed(self, appointment):
        with pytest.raises(DomainError) as refused:
            confirm_appointment(
                appointment=appointment, via=ConfirmedVia.LINK, now=appointment.start
            )

        assert refused.value.code == "not_confirmable"

    def test_a_move_clears_the_confirmation(self, appointment):
        confirm_appointment(appointment=appointment, via=ConfirmedVia.SMS_REPLY)

        reschedule_appointment(appointment=appointment, start=at(THURSDAY, 14))

        appointment.refresh_from_db()
        assert appointment.confirmed_at is None and appointment.confirmed_via == ""


class TestConfirmThroughTheApi:
    def test_the_owner_confirms_and_sees_it(self, as_patient, appointment):
        response = as_patient.post(f"{APPOINTMENTS}{appointment.pk}/confirm/")

        assert response.status_code == 200, response.json()
        assert response.json()["confirmed_at"] == NOW.isoformat()
        appointment.refresh_from_db()
        assert appointment.confirmed_via == ConfirmedVia.PATIENT
        listed = as_patient.get(APPOINTMENTS).json()["results"]
        shown = {a["id"]: a["confirmed_at"] for a in listed}
        assert shown[appointment.pk] == NOW.isoformat()

    def test_reception_records_a_confirmation_taken_on_the_phone(self, as_reception, appointment):
        response = as_reception.post(f"{APPOINTMENTS}{appointment.pk}/confirm/")

        assert response.status_code == 200
        appointment.refresh_from_db()
        assert appointment.confirmed_via == ConfirmedVia.RECEPTION

    def test_another_patient_gets_404_and_nothing_changes(self, as_other_patient, appointment):
        response = as_other_patient.post(f"{APPOINTMENTS}{appointment.pk}/confirm/")

        assert response.status_code == 404
        appointment.refresh_from_db()
        assert appointment.confirmed_at is None

    def test_a_cancelled_booking_is_409_naming_the_code(self, as_patient, appointment, reception):
        cancel_appointment(appointment=appointment, by=reception, reason="Flu")

        response = as_patient.post(f"{APPOINTMENTS}{appointment.pk}/confirm/")

        assert response.status_code == 409
        assert response.json()["code"] == "not_confirmable"
