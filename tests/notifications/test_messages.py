from datetime import date, timedelta

import pytest
import time_machine
from celery.exceptions import SoftTimeLimitExceeded
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments.models import Appointment, Status
from appointments.services import book_appointment, cancel_appointment, reschedule_appointment
from clinic import celery_app
from notifications import services
from notifications.backends import TransientDeliveryError
from notifications.models import (
    Delivery,
    Kind,
    MessageTemplate,
    MessagingSettings,
    Notification,
    OutboxMessage,
)
from notifications.tasks import dispatch_due, send_notifications
from notifications.wording import check_template, context_of, render_message
from patients.models import Patient
from tests.factories import AppointmentFactory, PatientFactory
from tests.fixtures.clinic import MELBOURNE, TODAY, at
from treatments.models import Exercise, Phase
from treatments.services import create_plan, move_plan_to_phase, prescribe_home_exercise

THURSDAY = TODAY + timedelta(days=3)


@pytest.fixture(autouse=True)
def _clock_frozen(frozen_now):
    yield


@pytest.fixture
def consenting(assessed_patient):
    assessed_patient.consent_email = True
    assessed_patient.consent_sms = True
    assessed_patient.save()
    return assessed_patient


@pytest.fixture
def booked(consenting, assessment, myotherapist):
    return book_appointment(
        patient=consenting, service=assessment, practitioner=myotherapist, start=at(THURSDAY, 10)
    )


def due(kind, **filters):
    return sorted(
        (n.channel, n.due_at)
        for n in Notification.objects.filter(kind=kind, status=Delivery.PENDING, **filters)
    )


def send_everything_due():
    return [services.deliver(pk) for pk in services.claim_due()]


class TestScheduling:
    def test_a_booking_schedules_a_confirmation_and_the_reminders(self, booked):
        assert due(Kind.CONFIRMATION) == [("email", at(TODAY, 8)), ("sms", at(TODAY, 8))]
        reminders = due(Kind.REMINDER)
        assert sorted(d for _, d in reminders) == sorted(
            [at(THURSDAY, 10) - timedelta(hours=h) for h in (48, 48, 2, 2)]
        )

    def test_only_consented_channels(self, assessed_patient, assessment, myotherapist):
        assessed_patient.consent_sms = True
        assessed_patient.save()

        book_appointment(
            patient=assessed_patient,
            service=assessment,
            practitioner=myotherapist,
            start=at(THURSDAY, 10),
        )

        assert {n.channel for n in Notification.objects.all()} == {"sms"}

    def test_no_consent_no_messages(self, new_patient, assessment, myotherapist):
        book_appointment(
            patient=new_patient,
            service=assessment,
            practitioner=myotherapist,
            start=at(THURSDAY, 10),
        )

        assert not Notification.objects.exists()

    def test_reminders_already_past_are_not_scheduled(self, consenting, assessment, myotherapist):
        book_appointment(
            patient=consenting, service=assessment, practitioner=myotherapist, start=at(TODAY, 11)
        )

        assert [d for _, d in due(Kind.REMINDER)] == [at(TODAY, 9), at(TODAY, 9)]

    def test_a_move_re_times_the_reminders_and_sends_a_notice(self, booked):
        reschedule_appointment(appointment=booked, start=at(THURSDAY + timedelta(days=1), 14))

        assert sorted(d for _, d in due(Kind.REMINDER)) == sorted(
            [at(THURSDAY + timedelta(days=1), 14) - timedelta(hours=h) for h in (48, 48, 2, 2)]
        )
        assert (
            Notification.objects.filter(kind=Kind.REMINDER, status=Delivery.WITHDRAWN).count() == 4
        )
        assert len(due(Kind.RESCHEDULED)) == 2

    def test_a_cancellation_withdraws_what_is_pending_and_sends_a_notice(self, booked):
        cancel_appointment(appointment=booked, by=None, online=True)

        assert due(Kind.REMINDER) == [] and due(Kind.CONFIRMATION) == []
        assert len(due(Kind.CANCELLED)) == 2

    def test_reminders_keep_real_hours_across_the_april_clock_change(
        self, consenting, assessment, myotherapist
    ):
        # 48 hours before 11:00 on Monday 5 April (+10:00) is 12:00 on Saturday 3 April
        # (+11:00): the clock went back an hour in between.
        start = at(date(2027, 4, 5), 11)
        book_appointment(
            patient=consenting, service=assessment, practitioner=myotherapist, start=start
        )

        locals_ = sorted(
            {d.astimezone(MELBOURNE).strftime("%a %H:%M") for _, d in due(Kind.REMINDER)}
        )
        assert locals_ == ["Mon 09:00", "Sat 12:00"]

    def test_reminders_across_the_october_clock_change_and_quiet_hours(
        self, consenting, assessment, myotherapist
    ):
        # Clocks go forward at 02:00 on Sunday 3 October 2027. 48 real hours before 09:00
        # that Sunday (+11:00) is 08:00 on Friday (+10:00); 2 hours before is 07:00, inside
        # the quiet hours, so that reminder goes out at 08:00 instead.
        with time_machine.travel(at(date(2027, 9, 27), 8), tick=False):
            book_appointment(
                patient=consenting,
                service=assessment,
                practitioner=myotherapist,
                start=at(date(2027, 10, 3), 9),
            )
        local = {d.astimezone(MELBOURNE).strftime("%a %H:%M") for _, d in due(Kind.REMINDER)}
        assert sorted(local) == ["Fri 08:00", "Sun 07:00"]

        with time_machine.travel(at(date(2027, 10, 1), 8, 1), tick=False):
            send_everything_due()  # the confirmations and the 48 h reminders
        with time_machine.travel(at(date(2027, 10, 3), 7, 1), tick=False):
            assert send_everything_due() == ["deferred", "deferred"]
        sms = Notification.objects.get(
            kind=Kind.REMINDER, channel="sms", due_at__gte=at(date(2027, 10, 3), 0)
        )
        assert sms.status == Delivery.PENDING and sms.due_at == at(date(2027, 10, 3), 8)


class TestDelivery:
    def test_each_due_message_is_sent_once(self, booked):
        first = send_everything_due()
        second = send_everything_due()

        assert sorted(first) == ["sent", "sent"]  # the two confirmations
        assert second == []
        assert OutboxMessage.objects.count() == 2
        email = OutboxMessage.objects.get(channel="email")
        assert "Initial assessment" in email.body and email.attachments == ["appointment.ics"]

    def test_a_second_send_of_the_same_message_does_nothing(self, booked):
        [pk, *_] = services.claim_due()

        assert services.deliver(pk) == "sent"
        assert services.deliver(pk) == "not claimed"
        assert OutboxMessage.objects.filter(notification_id=pk).count() == 1

    def test_reminders_go_out_at_their_time(self, booked):
        send_everything_due()
        with time_machine.travel(at(THURSDAY, 8, 1), tick=False):
            outcomes = send_everything_due()

        assert sorted(outcomes) == ["sent"] * 4  # 48 h and 2 h, two channels each
        assert Notification.objects.filter(kind=Kind.REMINDER, status=Delivery.SENT).count() == 4

    def test_consent_withdrawn_before_sending_skips(self, booked, consenting):
        consenting.consent_sms = False
        consenting.save()

        outcomes = send_everything_due()

        assert sorted(outcomes) == ["sent", "skipped"]
        assert Notification.objects.get(channel="sms", kind=Kind.CONFIRMATION).status == "skipped"

    def test_quiet_hours_defer_to_the_morning_not_drop(self, consenting, assessment, myotherapist):
        with time_machine.travel(at(TODAY, 21, 30), tick=False):
            book_appointment(
                patient=consenting,
                service=assessment,
                practitioner=myotherapist,
                start=at(THURSDAY, 10),
            )
            outcomes = send_everything_due()

        assert outcomes == ["deferred", "deferred"]
        assert due(Kind.CONFIRMATION) == [
            ("email", at(TODAY + timedelta(days=1), 8)),
            ("sms", at(TODAY + timedelta(days=1), 8)),
        ]
        with time_machine.travel(at(TODAY + timedelta(days=1), 8), tick=False):
            assert sorted(send_everything_due()) == ["sent", "sent"]

    def test_a_reminder_for_a_cancelled_appointment_is_withdrawn_at_send(self, booked):
        send_everything_due()
        booked.status = Status.CANCELLED  # behind the services' back
        booked.cancelled_at = at(TODAY, 8)
        booked.save()

        with time_machine.travel(at(THURSDAY, 8, 1), tick=False):
            outcomes = send_everything_due()

        assert outcomes == ["withdrawn"] * 4

    def test_a_transient_failure_comes_back_later(self, booked, monkeypatch):
        from notifications import backends

        def fail(self, notification):
            raise TransientDeliveryError("SMTP timed out")

        monkeypatch.setattr(backends.OutboxBackend, "send", fail)
        outcomes = send_everything_due()

        notification = Notification.objects.filter(kind=Kind.CONFIRMATION).first()
        assert outcomes == ["retry", "retry"]
        assert notification.status == Delivery.PENDING and notification.attempts == 1
        assert notification.due_at == at(TODAY, 8, 1)
        assert "timed out" in notification.last_error
        assert not OutboxMessage.objects.exists()

    def test_live_email_carries_the_calendar_entry(self, booked, settings):
        settings.NOTIFICATIONS_DELIVERY = "live"
        settings.SMS_BACKEND = "file"
        settings.SMS_FILE_PATH = "/tmp/clinic-test-sms.jsonl"

        send_everything_due()

        [message] = mail.outbox
        assert message.to == [booked.patient.email]
        assert message.attachments[0][0] == "appointment.ics"
        assert "BEGIN:VEVENT" in str(message.attachments[0][1])
        assert message.extra_headers["Message-ID"].startswith("<notification-")


class TestBatches:
    """A send task carries several messages; each is still re-checked against fresh state."""

    @pytest.fixture
    def claimed(self, booked):
        services.claim_due()
        # The email confirmation first, then the SMS one.
        return list(
            Notification.objects.filter(kind=Kind.CONFIRMATION)
            .order_by("channel")
            .values_list("pk", flat=True)
        )

    @pytest.fixture
    def on_first_send(self, monkeypatch):
        """Run a change while the batch's first message is being sent."""
        from notifications import backends

        original = backends.OutboxBackend.send
        changes = []

        def send(self, notification):
            if changes:
                changes.pop()()
            original(self, notification)

        monkeypatch.setattr(backends.OutboxBackend, "send", send)
        return changes.append

    def test_consent_withdrawn_during_the_batch_is_honoured(
        self, claimed, consenting, on_first_send
    ):
        on_first_send(lambda: Patient.objects.filter(pk=consenting.pk).update(consent_sms=False))

        outcomes = services.deliver_batch(claimed)

        assert list(outcomes.values()) == ["sent", "skipped"]
        assert OutboxMessage.objects.get().channel == "email"

    def test_a_cancellation_during_the_batch_withdraws_its_reminders(self, booked, on_first_send):
        send_everything_due()
        with time_machine.travel(at(THURSDAY, 8, 1), tick=False):
            reminders = services.claim_due()
            on_first_send(
                lambda: Appointment.objects.filter(pk=booked.pk).update(
                    status=Status.CANCELLED, cancelled_at=at(THURSDAY, 8)
                )
            )
            outcomes = services.deliver_batch(reminders)

        assert list(outcomes.values()) == ["sent", "withdrawn", "withdrawn", "withdrawn"]

    def test_templates_and_rules_are_read_once_per_batch(self, claimed):
        with CaptureQueriesContext(connection) as queries:
            services.deliver_batch(claimed)

        def reads_of(table):
            return [q for q in queries if f'FROM "{table}"' in q["sql"]]

        assert len(reads_of("notifications_messagingsettings")) == 1
        assert len(reads_of("notifications_messagetemplate")) == 2  # email and SMS
        assert len(reads_of("notifications_notification")) == 1  # the batch's rows

    def test_out_of_time_the_untried_messages_go_back_to_the_queue(self, claimed, on_first_send):
        def out_of_time():
            raise SoftTimeLimitExceeded()

        on_first_send(out_of_time)

        with pytest.raises(SoftTimeLimitExceeded):
            services.deliver_batch(claimed)

        assert set(
            Notification.objects.filter(pk__in=claimed).values_list("status", flat=True)
        ) == {Delivery.PENDING}
        assert not OutboxMessage.objects.exists()
        assert sorted(send_everything_due()) == ["sent", "sent"]


class TestTasks:
    @pytest.fixture
    def eager(self):
        celery_app.conf.task_always_eager = True
        yield
        celery_app.conf.task_always_eager = False

    def test_the_scan_hands_due_messages_to_send_tasks(self, booked, eager):
        assert dispatch_due() == 2
        assert OutboxMessage.objects.count() == 2

    def test_the_send_task_is_safe_to_run_twice(self, booked):
        claimed = services.claim_due()

        assert send_notifications(claimed) == dict.fromkeys(claimed, "sent")
        assert send_notifications(claimed) == dict.fromkeys(claimed, "not claimed")

    def test_the_scan_hands_out_batches_of_the_configured_size(self, booked, settings, monkeypatch):
        settings.NOTIFICATIONS_SEND_BATCH = 3
        book_appointment(  # three more due confirmations: five in all
            patient=PatientFactory(consent_email=True, consent_sms=True),
            service=booked.service,
            practitioner=booked.practitioner,
            start=at(THURSDAY, 12),
        )
        handed_out = []
        monkeypatch.setattr(send_notifications, "delay", handed_out.append)

        assert dispatch_due() == 4

        assert [len(batch) for batch in handed_out] == [3, 1]
        outcomes = [services.deliver_batch(batch) for batch in handed_out]
        assert [set(o.values()) for o in outcomes] == [{"sent"}, {"sent"}]

    def test_a_backlog_larger_than_one_claim_drains_without_waiting_for_beat(
        self, booked, settings, eager
    ):
        settings.NOTIFICATIONS_CLAIM_BATCH = 2
        book_appointment(  # two more due confirmations: four due in all
            patient=PatientFactory(consent_email=True, consent_sms=True),
            service=booked.service,
            practitioner=booked.practitioner,
            start=at(THURSDAY, 12),
        )

        assert dispatch_due() == 2  # the first claim; the next followed at once

        assert OutboxMessage.objects.count() == 4

    def test_a_dead_workers_claim_is_taken_again(self, booked, settings):
        settings.NOTIFICATIONS_STALE_CLAIM_SECONDS = 60
        claimed = services.claim_due()

        with time_machine.travel(at(TODAY, 8, 2), tick=False):
            again = services.claim_due()

        assert sorted(again) == sorted(claimed)


class TestPrompts:
    @pytest.fixture
    def maintaining(self, consenting, myotherapist, myotherapy, location, treatment_rooms):
        plan = create_plan(
            patient=consenting,
            practitioner=myotherapist,
            goals="Stay well",
            phases=[],
            maintenance_interval_weeks=4,  # the last visit was 30 days ago
        )
        move_plan_to_phase(plan=plan, phase=Phase.MAINTAIN, by=None)
        AppointmentFactory(
            patient=consenting,
            practitioner=myotherapist,
            service=myotherapy,
            location=location,
            room=treatment_rooms[0],
            start=at(TODAY - timedelta(weeks=7), 10),
            status=Status.COMPLETED,
        )
        return consenting

    def test_a_maintenance_prompt_once_per_interval(self, maintaining):
        added = services.patient_prompts()
        again = services.patient_prompts()

        assert (added, again) == (2, 0)  # email and SMS, once
        assert set(Notification.objects.values_list("kind", flat=True)) == {"maintenance_prompt"}
        with time_machine.travel(at(TODAY + timedelta(weeks=1), 8), tick=False):
            assert services.patient_prompts() == 0  # still the same interval
        with time_machine.travel(at(TODAY + timedelta(weeks=4), 8), tick=False):
            assert services.patient_prompts() == 2  # the next interval

    def prompt(self, patient, channel: str) -> str:
        """The clinic's default maintenance prompt on `channel`, worded for `patient`."""
        template = MessageTemplate.objects.get(kind=Kind.MAINTENANCE_PROMPT, channel=channel)
        values = context_of(patient, None, kind=Kind.MAINTENANCE_PROMPT)
        return render_message(check_template(template.body, kind=Kind.MAINTENANCE_PROMPT), values)

    def test_a_maintenance_prompt_names_the_home_programme(self, maintaining, myotherapist):
        prescribe_home_exercise(
            plan=maintaining.plans.get(),
            exercise=Exercise.objects.get(name="Bird dog"),
            by=myotherapist.user,
            times_per_week=3,
        )

        email, sms = self.prompt(maintaining, "email"), self.prompt(maintaining, "sms")

        assert "keep up your home exercises:\nBird dog: 3 x 8, 3 times a week\n" in email
        assert "Bird dog" not in sms

    def test_a_maintenance_prompt_without_a_programme_says_nothing_of_one(self, maintaining):
        assert "home exercises" not in self.prompt(maintaining, "email")

    def test_no_prompt_with_a_future_booking(self, maintaining, assessment, myotherapist):
        book_appointment(
            patient=maintaining,
            service=assessment,
            practitioner=myotherapist,
            start=at(THURSDAY, 10),
        )
        Notification.objects.all().delete()

        assert services.patient_prompts() == 0

    def test_a_recall_after_weeks_without_a_visit(
        self, myotherapist, myotherapy, location, treatment_rooms
    ):
        lapsed = PatientFactory(consent_email=True, email="lapsed@example.com")
        AppointmentFactory(
            patient=lapsed,
            practitioner=myotherapist,
            service=myotherapy,
            location=location,
            room=treatment_rooms[0],
            start=at(
                TODAY - timedelta(weeks=MessagingSettings.current().recall_after_weeks + 1), 9
            ),
            status=Status.COMPLETED,
        )

        assert services.patient_prompts() == 1
        assert Notification.objects.get().kind == Kind.RECALL


def test_one_dispatch_per_transaction_however_many_bookings_it_makes(
    consenting, assessment, myotherapist, django_capture_on_commit_callbacks
):
    """Each booking adds its due messages; a transaction that books many (the demo, a
    course of visits) asks the worker for one dispatch when it commits, not one each."""
    with django_capture_on_commit_callbacks() as callbacks:
        for hour in (9, 11, 14):
            book_appointment(
                patient=PatientFactory(consent_email=True),
                service=assessment,
                practitioner=myotherapist,
                start=at(TODAY + timedelta(days=3), hour),
            )

    assert len(due(Kind.CONFIRMATION)) == 3
    assert [callback.__name__ for callback in callbacks] == ["dispatch_soon"]
