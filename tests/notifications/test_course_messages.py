"""A course booked in one step is told in one message listing its visits; each visit still
gets its own reminders."""

from datetime import time, timedelta

import pytest

from appointments.courses import FOLLOWING, CourseRule, book_course, cancel_course_visits
from appointments.services import cancel_appointment
from notifications import services
from notifications.models import Delivery, Kind, Notification, OutboxMessage
from tests.fixtures.clinic import TODAY, at

TUESDAY = TODAY + timedelta(days=1)


@pytest.fixture(autouse=True)
def _clock_frozen(frozen_now):
    yield


@pytest.fixture
def course(assessed_patient, myotherapy, myotherapist, location):
    assessed_patient.consent_email = True
    assessed_patient.consent_sms = True
    assessed_patient.save()
    return book_course(
        patient=assessed_patient,
        service=myotherapy,
        practitioner=myotherapist,
        location=location,
        rule=CourseRule(first_date=TUESDAY, at=time(10), visits=3),
    )


def test_one_confirmation_per_channel_for_the_whole_course(course):
    confirmations = Notification.objects.filter(kind=Kind.COURSE_CONFIRMATION)

    assert sorted(confirmations.values_list("channel", flat=True)) == ["email", "sms"]
    assert {n.appointment for n in confirmations} == {course.booked[0]}
    assert not Notification.objects.filter(kind=Kind.CONFIRMATION).exists()


def test_each_visit_keeps_its_reminders(course):
    reminders = [
        visit.notifications.filter(kind=Kind.REMINDER, status=Delivery.PENDING).count()
        for visit in course.booked
    ]

    # 48 h and 2 h before, by email and SMS; tomorrow's first visit is inside the 48 hours.
    assert reminders == [2, 4, 4]


def test_the_email_lists_every_visit(course):
    outcomes = [services.deliver(pk) for pk in services.claim_due()]

    assert outcomes == ["sent", "sent"]
    email = OutboxMessage.objects.get(channel="email")
    assert email.subject == "Your Myotherapy 45 course from Tuesday 23 March"
    for week in range(3):
        day = TUESDAY + timedelta(weeks=week)
        assert f"{at(day, 10):%A %d %B at %H:%M} with Mia Myo" in email.body
    sms = OutboxMessage.objects.get(channel="sms")
    assert "course is booked, first visit Tuesday 23 March at 10:00" in sms.body


def test_a_visit_cancelled_before_sending_is_not_listed(course, reception_user):
    cancel_appointment(appointment=course.booked[2], by=reception_user, reason="Away")

    for pk in services.claim_due():
        services.deliver(pk)

    email = OutboxMessage.objects.get(channel="email", notification__kind=Kind.COURSE_CONFIRMATION)
    assert f"{at(TUESDAY + timedelta(weeks=1), 10):%A %d %B}" in email.body
    assert f"{at(TUESDAY + timedelta(weeks=2), 10):%A %d %B}" not in email.body


def test_visits_cancelled_together_are_told_in_one_message(course, reception_user):
    for pk in services.claim_due():  # the confirmations
        services.deliver(pk)

    cancel_course_visits(
        appointment=course.booked[1], scope=FOLLOWING, by=reception_user, reason="Better"
    )

    assert not Notification.objects.filter(kind=Kind.CANCELLED).exists()
    notices = Notification.objects.filter(kind=Kind.COURSE_CANCELLED)
    assert sorted(notices.values_list("channel", flat=True)) == ["email", "sms"]
    for pk in services.claim_due():
        services.deliver(pk)
    email = OutboxMessage.objects.get(channel="email", notification__kind=Kind.COURSE_CANCELLED)
    assert f"{at(TUESDAY + timedelta(weeks=1), 10):%A %d %B at %H:%M}" in email.body
    assert f"{at(TUESDAY + timedelta(weeks=2), 10):%A %d %B at %H:%M}" in email.body
    assert f"{at(TUESDAY, 10):%A %d %B}" not in email.body
    # Their reminders are withdrawn; the first visit keeps its own.
    for visit in course.booked[1:]:
        assert not visit.notifications.filter(kind=Kind.REMINDER, status=Delivery.PENDING)
    assert course.booked[0].notifications.filter(kind=Kind.REMINDER, status=Delivery.PENDING)
