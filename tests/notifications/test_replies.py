"""Patients' SMS replies (issue 19): yes confirms, no cancels (or asks reception to call
inside the cancellation window), STOP withdraws SMS consent at once and START gives it
back, anything else waits in reception's inbox; each reply kept once, and only when
Twilio signed it."""

import queue
import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection, transaction
from django.test import Client

from appointments.models import ConfirmedVia, Status
from appointments.services import book_appointment, reschedule_appointment
from notifications import services
from notifications.callbacks import keyword_of, mark_replies_handled, take_reply
from notifications.models import Delivery, Kind, Notification, OutboxMessage, Reply, ReplyAction
from notifications.providers import IncomingSms
from patients.models import Patient
from patients.services import update_patient_profile
from tests.factories import PatientFactory
from tests.fixtures.clinic import TODAY, at
from tests.notifications.test_consents import waiting_for_the_lock

from .fake_providers import twilio_callback

pytestmark = [pytest.mark.usefixtures("frozen_now"), pytest.mark.django_db]

THURSDAY = TODAY + timedelta(days=3)
REPLIES = "/webhooks/sms/twilio/replies/"
ARI = "+61412345678"


@pytest.fixture
def consenting(assessed_patient):
    return update_patient_profile(
        patient=assessed_patient, changes={"consent_sms": True, "mobile": ARI}
    )


def book_and_tell(patient, service, practitioner, start):
    """Book, and send the SMS confirmation: the message a reply answers."""
    appointment = book_appointment(
        patient=patient, service=service, practitioner=practitioner, start=start
    )
    for pk in services.claim_due():
        services.deliver(pk)
    return appointment


@pytest.fixture
def thursday(consenting, assessment, myotherapist):
    """Ari's Thursday 10:00, three days ahead (outside the 24 h window), confirmed by SMS."""
    return book_and_tell(consenting, assessment, myotherapist, at(THURSDAY, 10))


def reply(client: Client, body: str, *, sid: str = "SMreply1", sender: str = "0412 345 678"):
    """Ari's phone answers (Twilio sends the number in E.164; a local spelling is matched
    too)."""
    return twilio_callback(
        client, REPLIES, {"MessageSid": sid, "From": sender, "Body": body, "To": "+61400000000"}
    )


def the_reply() -> Reply:
    return Reply.objects.get()


class TestKeywords:
    @pytest.mark.parametrize(
        ("body", "word"), [("Yes!", "YES"), (" y. ", "Y"), ("Cancel", "CANCEL"), ("no…", "NO")]
    )
    def test_case_spaces_and_punctuation_do_not_count(self, body, word):
        assert keyword_of(body) == word

    @pytest.mark.parametrize("body", ["Y", "yes", "C", "Yes."])
    def test_yes_confirms_the_appointment(self, client, thursday, body):
        answer = reply(client, body)

        assert answer.status_code == 200
        thursday.refresh_from_db()
        assert thursday.confirmed_via == ConfirmedVia.SMS_REPLY
        assert thursday.confirmed_at is not None
        assert (the_reply().action, the_reply().appointment) == (ReplyAction.CONFIRMED, thursday)

    @pytest.mark.parametrize("body", ["N", "no", "CANCEL"])
    def test_no_cancels_the_appointment_outside_the_window(self, client, thursday, body):
        reply(client, body)

        thursday.refresh_from_db()
        assert thursday.status == Status.CANCELLED
        assert the_reply().action == ReplyAction.CANCELLED

    def test_no_inside_the_window_asks_reception_to_call_and_cancels_nothing(
        self, client, consenting, assessment, myotherapist
    ):
        this_afternoon = book_and_tell(consenting, assessment, myotherapist, at(TODAY, 15))

        reply(client, "No")

        this_afternoon.refresh_from_db()
        assert this_afternoon.status == Status.BOOKED
        assert the_reply().action == ReplyAction.CALL_PATIENT
        assert "Call the patient" in the_reply().outcome

    def test_anything_else_waits_in_reception_s_inbox_with_patient_and_appointment(
        self, client, thursday
    ):
        reply(client, "Can I bring my daughter?")

        kept = the_reply()
        assert kept.action == ReplyAction.FOR_RECEPTION
        assert (kept.patient, kept.appointment) == (thursday.patient, thursday)
        thursday.refresh_from_db()
        assert (thursday.status, thursday.confirmed_at) == (Status.BOOKED, None)

    def test_every_reply_is_kept_in_the_patient_s_history(self, client, thursday):
        reply(client, "Yes", sid="SM1")
        reply(client, "Running late, sorry", sid="SM2")

        assert [r.body for r in Patient.objects.get(pk=thursday.patient_id).replies.all()] == [
            "Yes",
            "Running late, sorry",
        ]


class TestStopAndStart:
    def test_stop_withdraws_sms_consent_at_once_and_acknowledges_it(self, client, thursday):
        answer = reply(client, "STOP")

        patient = Patient.objects.get(pk=thursday.patient_id)
        assert patient.consent_sms is False
        assert b"<Message>You will get no more SMS" in answer.content
        assert not Notification.objects.filter(channel="sms", status=Delivery.PENDING).exists()

    def test_after_stop_a_due_reminder_is_not_sent(self, client, thursday):
        reply(client, "unsubscribe")

        with time_machine.travel(at(THURSDAY - timedelta(days=2), 10, 1), tick=False):
            for pk in services.claim_due():
                services.deliver(pk)

        assert not OutboxMessage.objects.filter(
            channel="sms", notification__kind=Kind.REMINDER
        ).exists()

    def test_stop_holds_for_everyone_with_the_number(self, client, thursday):
        child = PatientFactory(first_name="Kit", mobile=ARI, consent_sms=True)

        reply(client, "Stop")

        child.refresh_from_db()
        assert child.consent_sms is False

    def test_start_gives_sms_consent_back_and_the_reminders_with_it(self, client, thursday):
        reply(client, "STOP", sid="SM1")

        reply(client, "START", sid="SM2")

        assert Patient.objects.get(pk=thursday.patient_id).consent_sms is True
        assert Notification.objects.filter(
            channel="sms", kind=Kind.REMINDER, status=Delivery.PENDING
        ).exists()


class TestMatching:
    def test_a_reply_about_an_appointment_moved_since_is_left_to_reception(self, client, thursday):
        with time_machine.travel(at(TODAY, 9), tick=False):
            reschedule_appointment(appointment=thursday, start=at(THURSDAY, 14), by=None)
        with time_machine.travel(at(TODAY, 9, 30), tick=False):
            reply(client, "Yes")

        thursday.refresh_from_db()
        assert thursday.confirmed_at is None
        assert the_reply().action == ReplyAction.FOR_RECEPTION
        assert "moved after the message" in the_reply().outcome

    def test_a_reply_to_the_reschedule_notice_answers_for_the_new_time(self, client, thursday):
        with time_machine.travel(at(TODAY, 9), tick=False):
            reschedule_appointment(appointment=thursday, start=at(THURSDAY, 14), by=None)
            for pk in services.claim_due():
                services.deliver(pk)
        with time_machine.travel(at(TODAY, 9, 30), tick=False):
            reply(client, "Yes")

        thursday.refresh_from_db()
        assert thursday.confirmed_at is not None

    def test_yes_to_a_cancelled_appointment_is_left_to_reception(self, client, thursday):
        reply(client, "No", sid="SM1")

        reply(client, "Yes", sid="SM2")

        answered = Reply.objects.get(provider_id="SM2")
        assert answered.action == ReplyAction.FOR_RECEPTION
        assert answered.outcome.startswith("Not done:")

    def test_a_number_no_patient_has_is_kept_for_reception(self, client, thursday):
        reply(client, "Yes", sender="+61499999999")

        kept = the_reply()
        assert (kept.patient, kept.appointment, kept.action) == (
            None,
            None,
            ReplyAction.FOR_RECEPTION,
        )

    def test_a_sender_that_is_no_number_is_kept_for_reception(self, client, thursday):
        reply(client, "STOP", sender="CLINICTEST")

        kept = the_reply()
        assert (kept.sender, kept.patient, kept.action) == ("CLINICTEST", None, "stopped")
        assert Patient.objects.get(pk=thursday.patient_id).consent_sms is True


class TestRepeatsAndSignatures:
    def test_the_same_reply_twice_is_acted_on_once_and_answered_once(self, client, thursday):
        first = reply(client, "STOP")
        update_patient_profile(patient=thursday.patient, changes={"consent_sms": True})

        again = reply(client, "STOP")

        assert Reply.objects.count() == 1
        assert Patient.objects.get(pk=thursday.patient_id).consent_sms is True
        assert b"<Message>" in first.content
        assert b"<Message>" not in again.content

    @pytest.mark.django_db(transaction=True)
    def test_the_same_reply_delivered_twice_at_once_is_taken_once(self, consenting):
        """The second delivery waits on the first's row (the unique provider id), then
        finds it: one reply, acted on once."""
        stop = IncomingSms(provider_id="SMtwice", sender=ARI, body="STOP")
        second_pid: queue.Queue[int] = queue.Queue()
        second: list[tuple[Reply, bool] | Exception] = []

        def deliver_again() -> None:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_backend_pid()")
                    second_pid.put(cursor.fetchone()[0])
                second.append(take_reply(stop))
            except Exception as error:  # shown by the assertion below
                second.append(error)
            finally:
                connection.close()

        again = threading.Thread(target=deliver_again)
        with transaction.atomic():
            _, first_is_new = take_reply(stop)
            again.start()
            waiting_for_the_lock(second_pid.get(timeout=30))
        again.join(timeout=60)

        assert first_is_new
        ((kept, second_is_new),) = second
        assert (kept.action, second_is_new) == (ReplyAction.STOPPED, False)
        assert Reply.objects.count() == 1

    def test_an_unsigned_reply_is_refused_and_does_nothing(self, client, thursday):
        answer = client.post(REPLIES, {"MessageSid": "SM1", "From": ARI, "Body": "STOP"})

        assert answer.status_code == 403
        assert not Reply.objects.exists()
        assert Patient.objects.get(pk=thursday.patient_id).consent_sms is True

    def test_a_reply_without_a_sender_names_the_field(self, client, thursday):
        answer = twilio_callback(client, REPLIES, {"MessageSid": "SM1", "Body": "Yes"})

        assert answer.status_code == 400
        assert answer.json()["fields"] == {"From": ["This field is required."]}

    def test_a_sender_too_long_names_the_field(self, client, thursday):
        answer = reply(client, "Yes", sender="+61" + "4" * 40)

        assert answer.status_code == 400
        assert list(answer.json()["fields"]) == ["From"]

    def test_a_nul_in_the_words_is_dropped_not_a_server_error(self, client, thursday):
        answer = reply(client, "Ye\x00s")

        assert answer.status_code == 200
        assert the_reply().body == "Yes"

    def test_a_get_is_not_allowed(self, client):
        assert client.get(REPLIES).status_code == 405


class TestInbox:
    def test_reception_marks_a_reply_handled(self, client, thursday, reception):
        reply(client, "Can I come at 11 instead?")

        handled = mark_replies_handled(Reply.objects.all(), by=reception)

        assert handled == 1
        assert the_reply().handled_by == reception

    def test_the_inbox_lists_what_reception_must_still_do(self, client, thursday, reception_staff):
        reply(client, "Yes", sid="SM1")
        reply(client, "Can I come at 11 instead?", sid="SM2")

        page = reception_staff.get("/admin/notifications/reply/?to_handle=yes")

        assert page.status_code == 200
        assert b"Can I come at 11 instead?" in page.content
        assert b"Confirmed by the patient." not in page.content  # done by itself
