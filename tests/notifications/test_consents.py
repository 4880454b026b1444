"""Messages follow consent (issue 16, item 2): a patient registering online is asked per
channel (nothing assumed), and whenever a consent changes, by whichever door, the reminders
of every upcoming booking are scheduled or withdrawn on that channel, each exactly once."""

import queue
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction

from appointments.services import book_appointment, cancel_appointment
from notifications import services
from notifications.models import (
    Delivery,
    Kind,
    MessagingSettings,
    Notification,
    OutboxMessage,
)
from patients.models import Patient
from patients.services import update_patient_profile
from tests.fixtures.clinic import TODAY, at

pytestmark = [pytest.mark.usefixtures("frozen_now", "fresh_throttles"), pytest.mark.django_db]

REGISTER = "/api/v1/auth/register/"
ME = "/api/v1/patients/me/"
THURSDAY = TODAY + timedelta(days=3)


def registration(**consents) -> dict:
    return {
        "email": "zoe@example.com",
        "password": "sciatica-free by spring",
        "first_name": "Zoë",
        "last_name": "Runner",
        "phone": "0412 345 678",
        "date_of_birth": "1991-04-02",
        **consents,
    }


def pending(**filters) -> list[tuple[str, str, object]]:
    return sorted(
        (n.kind, n.channel, n.due_at)
        for n in Notification.objects.filter(status=Delivery.PENDING, **filters)
    )


@pytest.fixture
def booked_without_consent(assessed_patient, assessment, myotherapist):
    """Ari booked for Thursday 10:00 before agreeing to any messages: nothing scheduled."""
    appointment = book_appointment(
        patient=assessed_patient,
        service=assessment,
        practitioner=myotherapist,
        start=at(THURSDAY, 10),
    )
    assert not Notification.objects.exists()
    return appointment


class TestRegistration:
    def test_the_consents_given_at_registration_are_kept(self, anonymous):
        answer = anonymous.post(REGISTER, registration(consent_email=True, consent_sms=False))

        assert answer.status_code == 201
        patient = Patient.objects.get(email="zoe@example.com")
        assert (patient.consent_email, patient.consent_sms) == (True, False)
        assert patient.consents_updated_at is not None

    def test_a_patient_who_consented_at_registration_gets_the_confirmation(
        self, anonymous, assessment, myotherapist, location, treatment_rooms
    ):
        anonymous.post(REGISTER, registration(consent_email=True, consent_sms=True))
        patient = Patient.objects.get(email="zoe@example.com")

        book_appointment(
            patient=patient, service=assessment, practitioner=myotherapist, start=at(THURSDAY, 10)
        )
        for pk in services.claim_due():
            services.deliver(pk)

        confirmations = OutboxMessage.objects.filter(notification__kind=Kind.CONFIRMATION)
        assert sorted(confirmations.values_list("channel", flat=True)) == ["email", "sms"]

    def test_nothing_is_assumed_without_an_answer(self, anonymous):
        anonymous.post(REGISTER, registration())

        patient = Patient.objects.get(email="zoe@example.com")
        assert (patient.consent_email, patient.consent_sms) == (False, False)
        assert patient.consents_updated_at is None

    def test_the_schema_asks_for_each_consent_unticked(self, anonymous):
        schema = anonymous.get("/api/schema/", {"format": "json"}).json()
        fields = schema["components"]["schemas"]["RegistrationRequest"]["properties"]

        for name in ("consent_email", "consent_sms"):
            assert fields[name]["type"] == "boolean"
            assert fields[name]["default"] is False

    def test_a_consent_that_is_not_a_yes_or_no_is_refused_by_name(self, anonymous):
        answer = anonymous.post(REGISTER, registration(consent_sms="perhaps"))

        assert answer.status_code == 400
        assert "consent_sms" in answer.json()["fields"]
        assert not Patient.objects.filter(email="zoe@example.com").exists()


class TestConsentChanges:
    def test_consent_given_online_schedules_the_reminders_of_upcoming_bookings(
        self, as_patient, booked_without_consent
    ):
        answer = as_patient.patch(ME, {"consent_sms": True}, format="json")

        assert answer.status_code == 200
        # The reminders still ahead (48 h and 2 h before); the booking's confirmation was
        # its moment, and it is not sent late.
        assert pending() == [
            (Kind.REMINDER, "sms", at(TODAY + timedelta(days=1), 10)),
            (Kind.REMINDER, "sms", at(THURSDAY, 8)),
        ]

    def test_only_upcoming_booked_appointments_and_reminders_still_ahead(
        self, assessed_patient, assessment, myotherapist, booked_without_consent
    ):
        soon = book_appointment(
            patient=assessed_patient,
            service=assessment,
            practitioner=myotherapist,
            start=at(TODAY, 11),  # three hours away: only the 2 h reminder is still ahead
        )
        later = book_appointment(
            patient=assessed_patient,
            service=assessment,
            practitioner=myotherapist,
            start=at(TODAY + timedelta(days=5), 10),
        )
        cancel_appointment(appointment=later, by=None, online=True)

        update_patient_profile(patient=assessed_patient, changes={"consent_email": True})

        assert pending(kind=Kind.REMINDER, appointment=soon) == [
            (Kind.REMINDER, "email", at(TODAY, 9))
        ]
        assert pending(kind=Kind.REMINDER, appointment=later) == []
        assert len(pending(kind=Kind.REMINDER, appointment=booked_without_consent)) == 2

    def test_consent_withdrawn_at_reception_withdraws_what_is_pending(
        self, as_patient, booked_without_consent, assessed_patient
    ):
        as_patient.patch(ME, {"consent_email": True, "consent_sms": True}, format="json")

        update_patient_profile(patient=assessed_patient, changes={"consent_sms": False})

        assert {channel for _, channel, _ in pending()} == {"email"}
        withdrawn = Notification.objects.filter(channel="sms")
        assert withdrawn.count() == 2
        assert {n.status for n in withdrawn} == {Delivery.WITHDRAWN}

    def test_given_withdrawn_and_given_again_each_reminder_is_there_once(
        self, as_patient, booked_without_consent
    ):
        for consent in (True, False, True, True):
            as_patient.patch(ME, {"consent_sms": consent}, format="json")

        assert Notification.objects.count() == 2  # the same two rows, back to pending
        assert len(pending(channel="sms")) == 2

    def test_the_reminders_scheduled_by_a_consent_are_sent_once_at_their_time(
        self, as_patient, booked_without_consent, frozen_now
    ):
        as_patient.patch(ME, {"consent_sms": True}, format="json")
        as_patient.patch(ME, {"consent_sms": True}, format="json")  # no change, nothing new

        frozen_now.move_to(at(THURSDAY, 8, 1))
        for pk in services.claim_due():
            services.deliver(pk)
        for pk in services.claim_due():
            services.deliver(pk)

        sent = OutboxMessage.objects.filter(channel="sms")
        assert sent.count() == 2
        assert {message.notification.kind for message in sent} == {Kind.REMINDER}


class TestConsentAndBookingAtOnce:
    """A booking reads the patient under the lock a consent change holds: whichever comes
    first, the booking ends up with the reminders of the consent in force."""

    def test_a_booking_made_with_an_old_read_of_the_patient_goes_by_the_new_consent(
        self, assessed_patient, assessment, myotherapist
    ):
        read_earlier = Patient.objects.get(pk=assessed_patient.pk)  # as a request holds it
        update_patient_profile(patient=assessed_patient, changes={"consent_sms": True})

        book_appointment(
            patient=read_earlier,
            service=assessment,
            practitioner=myotherapist,
            start=at(THURSDAY, 10),
        )

        assert {channel for _, channel, _ in pending()} == {"sms"}

    @pytest.mark.django_db(transaction=True)
    def test_a_booking_that_waited_for_a_consent_change_goes_by_it(
        self, assessed_patient, assessment, myotherapist
    ):
        MessagingSettings.current()  # the row the migrations make (the flush removed it)
        read_earlier = Patient.objects.get(pk=assessed_patient.pk)
        booker_pid: queue.Queue[int] = queue.Queue()
        failures: list[Exception] = []

        def book() -> None:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_backend_pid()")
                    booker_pid.put(cursor.fetchone()[0])
                book_appointment(
                    patient=read_earlier,
                    service=assessment,
                    practitioner=myotherapist,
                    start=at(THURSDAY, 10),
                )
            except Exception as error:  # shown by the assertion below
                failures.append(error)
            finally:
                connection.close()

        booker = threading.Thread(target=book)
        with transaction.atomic():
            update_patient_profile(patient=assessed_patient, changes={"consent_sms": True})
            booker.start()
            waiting_for_the_lock(booker_pid.get(timeout=30))
        booker.join(timeout=60)

        assert failures == []
        assert len(pending(kind=Kind.REMINDER, channel="sms")) == 2


def waiting_for_the_lock(pid: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
            if cursor.fetchone() == ("Lock",):
                return
            assert time.monotonic() < deadline, "the booking never waited for the patient's lock"
            time.sleep(0.05)
