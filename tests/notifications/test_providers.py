"""Messages through real providers (issue 19): SMS by Twilio and email by an email service
through django-anymail, each client library talking over HTTP to a stand-in
(`fake_providers.py`); what the providers call back (delivered, undelivered, failed,
bounced, complained) recorded once, in order, and only when signed."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from twilio.request_validator import RequestValidator

from appointments.services import book_appointment
from notifications import services
from notifications.models import Delivery, Kind, Notification, ProviderStatus
from patients.models import Patient
from patients.services import update_patient_profile
from tests.fixtures.clinic import TODAY, at

from .fake_providers import postmark_callback, twilio_callback

pytestmark = [pytest.mark.usefixtures("frozen_now"), pytest.mark.django_db]

THURSDAY = TODAY + timedelta(days=3)
STATUS = "/webhooks/sms/twilio/status/"


@pytest.fixture
def consenting(assessed_patient):
    return update_patient_profile(
        patient=assessed_patient,
        changes={"consent_email": True, "consent_sms": True, "mobile": "+61412345678"},
    )


@pytest.fixture
def booked(consenting, assessment, myotherapist):
    return book_appointment(
        patient=consenting, service=assessment, practitioner=myotherapist, start=at(THURSDAY, 10)
    )


def send_everything_due() -> list[str]:
    return [services.deliver(pk) for pk in services.claim_due()]


@pytest.fixture
def confirmation_sms(live_providers, booked) -> Notification:
    """The booking's confirmation, sent by Twilio (the stand-in)."""
    send_everything_due()
    return Notification.objects.get(kind=Kind.CONFIRMATION, channel="sms")


@pytest.fixture
def confirmation_email(live_providers, booked) -> Notification:
    send_everything_due()
    return Notification.objects.get(kind=Kind.CONFIRMATION, channel="email")


def reminder_two_days_ahead(channel: str) -> Notification:
    return Notification.objects.get(
        kind=Kind.REMINDER, channel=channel, reason_key__contains=":48h:"
    )


def twilio_status(sid: str, status: str, **more) -> dict:
    return {"MessageSid": sid, "MessageStatus": status, "AccountSid": "AC" + "0" * 32, **more}


def postmark_event(message_id: str, record_type: str, **more) -> dict:
    return {"RecordType": record_type, "MessageID": message_id, "ID": 42, **more}


class TestSending:
    def test_an_sms_goes_through_twilio_with_the_sender_and_the_status_callback(
        self, confirmation_sms, live_providers
    ):
        (request,) = [sent for sent in live_providers.sent if "Messages.json" in sent.path]
        assert request.path == f"/2010-04-01/Accounts/{'AC' + '0' * 32}/Messages.json"
        assert request.form["To"] == "+61412345678"
        assert request.form["From"] == "+61400000000"
        assert request.form["Body"] == confirmation_sms.body
        assert request.form["StatusCallback"] == f"https://api.clinic.example{STATUS}"
        assert confirmation_sms.status == Delivery.SENT
        assert confirmation_sms.provider_id.startswith("SM")
        assert confirmation_sms.provider_status == ProviderStatus.QUEUED

    def test_an_email_goes_through_the_email_service_and_keeps_its_message_id(
        self, confirmation_email, live_providers
    ):
        (request,) = [sent for sent in live_providers.sent if sent.path == "/postmark/email"]
        assert request.json["To"] == confirmation_email.recipient
        assert confirmation_email.status == Delivery.SENT
        assert confirmation_email.provider_id  # Postmark's MessageID

    def test_twilio_refusing_an_invalid_number_fails_the_message_and_stops_sms_to_it(
        self, live_providers, booked
    ):
        live_providers.refuse(
            400, {"code": 21211, "message": "The 'To' number is not valid.", "status": 400}
        )

        send_everything_due()

        sms = Notification.objects.get(kind=Kind.CONFIRMATION, channel="sms")
        assert (sms.status, sms.provider_error) == (Delivery.FAILED, "21211")
        assert "21211" in Patient.objects.get(pk=booked.patient_id).mobile_undeliverable

    def test_without_a_public_address_no_status_callback_is_asked_for(
        self, live_providers, booked, settings
    ):
        settings.WEBHOOK_BASE_URL = ""

        send_everything_due()

        (request,) = [sent for sent in live_providers.sent if "Messages.json" in sent.path]
        assert "StatusCallback" not in request.form

    def test_the_email_service_refusing_the_address_stops_email_to_it(self, live_providers, booked):
        live_providers.refuse(
            422,
            {
                "ErrorCode": 406,
                "Message": "You tried to send to a recipient that has been marked as inactive.\n"
                f" Found inactive addresses: {booked.patient.email}.\n Inactive recipients are "
                "ones that have generated a hard bounce or a spam complaint. ",
            },
        )

        send_everything_due()

        email = Notification.objects.get(kind=Kind.CONFIRMATION, channel="email")
        assert email.status == Delivery.FAILED
        assert Patient.objects.get(pk=booked.patient_id).email_undeliverable

    def test_twilio_down_puts_the_message_back_for_later(self, live_providers, booked):
        live_providers.refuse(503, {"code": 20500, "message": "Internal error", "status": 503})

        send_everything_due()

        sms = Notification.objects.get(kind=Kind.CONFIRMATION, channel="sms")
        assert sms.status == Delivery.PENDING
        assert Patient.objects.get(pk=booked.patient_id).mobile_undeliverable == ""


class TestSmsStatus:
    @pytest.mark.parametrize(
        ("twilio", "status", "provider_status"),
        [
            ("queued", Delivery.SENT, ProviderStatus.QUEUED),
            ("sent", Delivery.SENT, ProviderStatus.SENT),
            ("delivered", Delivery.DELIVERED, ProviderStatus.DELIVERED),
            ("undelivered", Delivery.UNDELIVERED, ProviderStatus.UNDELIVERED),
            ("failed", Delivery.FAILED, ProviderStatus.FAILED),
        ],
    )
    def test_each_status_twilio_reports_is_recorded(
        self, client: Client, confirmation_sms, twilio, status, provider_status
    ):
        Notification.objects.filter(pk=confirmation_sms.pk).update(provider_status="")

        callback = twilio_status(confirmation_sms.provider_id, twilio)
        answer = twilio_callback(client, STATUS, callback)

        assert answer.status_code == 204
        confirmation_sms.refresh_from_db()
        assert (confirmation_sms.status, confirmation_sms.provider_status) == (
            status,
            provider_status,
        )

    def test_queued_then_sent_then_delivered(self, client, confirmation_sms):
        for step in ("sent", "delivered"):
            twilio_callback(client, STATUS, twilio_status(confirmation_sms.provider_id, step))

        confirmation_sms.refresh_from_db()
        assert confirmation_sms.status == Delivery.DELIVERED

    def test_a_late_sent_after_delivered_changes_nothing(self, client, confirmation_sms):
        sid = confirmation_sms.provider_id
        twilio_callback(client, STATUS, twilio_status(sid, "delivered"))
        twilio_callback(client, STATUS, twilio_status(sid, "sent"))

        confirmation_sms.refresh_from_db()
        assert confirmation_sms.provider_status == ProviderStatus.DELIVERED

    def test_the_same_callback_twice_changes_nothing_the_second_time(
        self, client, confirmation_sms
    ):
        callback = twilio_status(confirmation_sms.provider_id, "undelivered", ErrorCode="30003")
        twilio_callback(client, STATUS, callback)
        first = Notification.objects.get(pk=confirmation_sms.pk).updated_at

        with time_machine.travel(at(TODAY, 9), tick=False):
            answer = twilio_callback(client, STATUS, callback)

        assert answer.status_code == 204
        assert Notification.objects.get(pk=confirmation_sms.pk).updated_at == first

    def test_undelivered_with_a_passing_error_keeps_the_number(self, client, confirmation_sms):
        twilio_callback(
            client,
            STATUS,
            twilio_status(confirmation_sms.provider_id, "undelivered", ErrorCode="30003"),
        )

        confirmation_sms.refresh_from_db()
        assert (confirmation_sms.provider_error, confirmation_sms.last_error) == (
            "30003",
            "Twilio error 30003",
        )
        assert Patient.objects.get(pk=confirmation_sms.patient_id).mobile_undeliverable == ""

    def test_the_log_shows_the_provider_s_word_and_error_code(
        self, client, confirmation_sms, as_reception
    ):
        twilio_callback(
            client,
            STATUS,
            twilio_status(confirmation_sms.provider_id, "undelivered", ErrorCode="30003"),
        )

        answer = as_reception.get(f"/api/v1/notifications/{confirmation_sms.pk}/")

        assert answer.json()["status"] == "undelivered"
        assert (answer.json()["provider_status"], answer.json()["provider_error"]) == (
            "undelivered",
            "30003",
        )

    def test_a_dead_number_stops_the_next_sms_and_says_why(self, client, confirmation_sms):
        twilio_callback(
            client,
            STATUS,
            twilio_status(confirmation_sms.provider_id, "failed", ErrorCode="30006"),
        )

        with time_machine.travel(at(THURSDAY - timedelta(days=2), 10, 1), tick=False):
            send_everything_due()

        reminder = reminder_two_days_ahead("sms")
        assert reminder.status == Delivery.UNREACHABLE
        assert "30006" in reminder.last_error
        assert "Correct the address" in reminder.last_error

    def test_a_new_number_is_tried_again(self, client, confirmation_sms):
        twilio_callback(
            client, STATUS, twilio_status(confirmation_sms.provider_id, "failed", ErrorCode="30006")
        )

        patient = update_patient_profile(
            patient=confirmation_sms.patient, changes={"mobile": "+61412999888"}
        )

        assert patient.mobile_undeliverable == ""

    def test_an_unsigned_callback_is_refused_and_changes_nothing(self, client, confirmation_sms):
        answer = client.post(
            STATUS, twilio_status(confirmation_sms.provider_id, "failed", ErrorCode="30006")
        )

        assert answer.status_code == 403
        assert answer.json()["code"] == "not_signed"
        assert Notification.objects.get(pk=confirmation_sms.pk).status == Delivery.SENT

    def test_a_callback_signed_with_another_token_is_refused(self, client, confirmation_sms):
        answer = twilio_callback(
            client, STATUS, twilio_status(confirmation_sms.provider_id, "failed"), token="forged"
        )

        assert answer.status_code == 403
        assert Notification.objects.get(pk=confirmation_sms.pk).status == Delivery.SENT

    def test_a_signature_replayed_on_other_values_is_refused(self, client, confirmation_sms):
        """A signed "delivered" whose status is swapped for "failed" on the way."""
        sid = confirmation_sms.provider_id
        signature = RequestValidator(settings.TWILIO_AUTH_TOKEN).compute_signature(
            f"{settings.WEBHOOK_BASE_URL}{STATUS}", twilio_status(sid, "delivered")
        )
        answer = client.post(
            STATUS,
            twilio_status(sid, "failed", ErrorCode="30006"),
            HTTP_X_TWILIO_SIGNATURE=signature,
        )

        assert answer.status_code == 403
        assert Patient.objects.get(pk=confirmation_sms.patient_id).mobile_undeliverable == ""

    def test_a_callback_signed_for_another_address_is_refused(self, client, confirmation_sms):
        answer = twilio_callback(
            client,
            STATUS,
            twilio_status(confirmation_sms.provider_id, "failed"),
            url="https://elsewhere.example/status/",
        )

        assert answer.status_code == 403

    def test_a_callback_without_a_status_names_the_field(self, client, confirmation_sms):
        answer = twilio_callback(client, STATUS, {"MessageSid": confirmation_sms.provider_id})

        assert answer.status_code == 400
        assert answer.json()["fields"] == {"MessageStatus": ["This field is required."]}

    def test_an_unknown_status_names_the_field(self, client, confirmation_sms):
        answer = twilio_callback(
            client, STATUS, twilio_status(confirmation_sms.provider_id, "teleported")
        )

        assert answer.status_code == 400
        assert "MessageStatus" in answer.json()["fields"]

    def test_an_error_code_that_is_no_number_names_the_field(self, client, confirmation_sms):
        answer = twilio_callback(
            client,
            STATUS,
            twilio_status(confirmation_sms.provider_id, "failed", ErrorCode="x" * 500),
        )

        assert answer.status_code == 400
        assert list(answer.json()["fields"]) == ["ErrorCode"]

    def test_an_unknown_provider_is_not_found(self, client):
        answer = twilio_callback(
            client, "/webhooks/sms/carrier-pigeon/status/", twilio_status("SM1", "sent")
        )

        assert answer.status_code == 404


class TestEmailStatus:
    def test_delivered(self, client, confirmation_email):
        answer = postmark_callback(
            client, postmark_event(confirmation_email.provider_id, "Delivery")
        )

        assert answer.status_code == 200
        confirmation_email.refresh_from_db()
        assert confirmation_email.status == Delivery.DELIVERED

    def test_a_hard_bounce_stops_email_to_the_address_and_reception_sees_why(
        self, client, confirmation_email
    ):
        postmark_callback(
            client,
            postmark_event(
                confirmation_email.provider_id,
                "Bounce",
                Type="HardBounce",
                Description="The server was unable to deliver your message (ex: unknown user).",
            ),
        )

        confirmation_email.refresh_from_db()
        assert confirmation_email.status == Delivery.UNDELIVERED
        patient = Patient.objects.get(pk=confirmation_email.patient_id)
        assert "unknown user" in patient.email_undeliverable
        with time_machine.travel(at(THURSDAY - timedelta(days=2), 10, 1), tick=False):
            send_everything_due()
        reminder = reminder_two_days_ahead("email")
        assert reminder.status == Delivery.UNREACHABLE
        assert "unknown user" in reminder.last_error

    def test_reception_sees_the_bounce_on_the_patient_s_page(
        self, client, confirmation_email, reception_staff
    ):
        postmark_callback(
            client,
            postmark_event(
                confirmation_email.provider_id,
                "Bounce",
                Type="HardBounce",
                Description="Mailbox does not exist",
            ),
        )

        page = reception_staff.get(
            f"/admin/patients/patient/{confirmation_email.patient_id}/change/"
        )

        assert page.status_code == 200
        assert b"Email undeliverable" in page.content
        assert b"Mailbox does not exist" in page.content

    def test_the_same_event_twice_changes_nothing_the_second_time(self, client, confirmation_email):
        event = postmark_event(confirmation_email.provider_id, "Delivery")
        postmark_callback(client, event)
        first = Notification.objects.get(pk=confirmation_email.pk).updated_at

        with time_machine.travel(at(TODAY, 9), tick=False):
            answer = postmark_callback(client, event)

        assert answer.status_code == 200
        assert Notification.objects.get(pk=confirmation_email.pk).updated_at == first

    def test_a_soft_bounce_keeps_the_address(self, client, confirmation_email):
        postmark_callback(
            client, postmark_event(confirmation_email.provider_id, "Bounce", Type="SoftBounce")
        )

        assert Patient.objects.get(pk=confirmation_email.patient_id).email_undeliverable == ""

    def test_a_complaint_stops_email_to_the_address(self, client, confirmation_email):
        postmark_callback(client, postmark_event(confirmation_email.provider_id, "Delivery"))
        postmark_callback(
            client,
            postmark_event(confirmation_email.provider_id, "SpamComplaint", Type="SpamComplaint"),
        )

        confirmation_email.refresh_from_db()
        assert confirmation_email.provider_status == ProviderStatus.COMPLAINED
        assert Patient.objects.get(pk=confirmation_email.patient_id).email_undeliverable

    def test_a_bounce_from_an_old_address_says_nothing_of_the_new_one(
        self, client, confirmation_email
    ):
        update_patient_profile(
            patient=confirmation_email.patient, changes={"email": "ari.new@example.com"}
        )

        postmark_callback(
            client,
            postmark_event(confirmation_email.provider_id, "Bounce", Type="HardBounce"),
        )

        assert Patient.objects.get(pk=confirmation_email.patient_id).email_undeliverable == ""

    def test_an_unauthenticated_event_is_refused_and_changes_nothing(
        self, client, confirmation_email
    ):
        answer = postmark_callback(
            client,
            postmark_event(confirmation_email.provider_id, "Bounce", Type="HardBounce"),
            secret="anymail:guessed",
        )

        assert answer.status_code == 403
        confirmation_email.refresh_from_db()
        assert confirmation_email.status == Delivery.SENT
        assert Patient.objects.get(pk=confirmation_email.patient_id).email_undeliverable == ""

    def test_without_a_webhook_secret_every_event_is_refused(
        self, client, confirmation_email, settings
    ):
        # anymail alone would take any caller then (with a warning).
        settings.ANYMAIL = {
            key: value for key, value in settings.ANYMAIL.items() if key != "WEBHOOK_SECRET"
        }

        answer = postmark_callback(
            client, postmark_event(confirmation_email.provider_id, "Delivery"), secret="a:b"
        )

        assert answer.status_code == 403
        assert Notification.objects.get(pk=confirmation_email.pk).status == Delivery.SENT
