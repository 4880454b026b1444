"""Scheduling and delivery act at the moment they are given (`now=`), not the clock's: a
booking made last week scheduled its messages from then, and a message delivered at a
given moment is judged (quiet hours, a visit that has started) and stamped by it. The
clock here is frozen at TODAY 08:00."""

from datetime import timedelta

import pytest

from appointments.services import book_appointment
from notifications.models import Delivery, Kind, Notification
from notifications.services import claim_due, deliver_batch
from tests.fixtures.clinic import TODAY, at

LAST_WEEK = TODAY - timedelta(days=7)
YESTERDAY = TODAY - timedelta(days=1)


@pytest.fixture(autouse=True)
def _clock_frozen(frozen_now):
    yield


@pytest.fixture
def booked_last_week(assessed_patient, assessment, myotherapist):
    """Yesterday's 10:00 assessment, booked last week at 21:00 (in the quiet hours), for a
    patient who agreed to email only."""
    assessed_patient.consent_email, assessed_patient.consent_sms = True, False
    assessed_patient.save()
    return book_appointment(
        patient=assessed_patient,
        service=assessment,
        practitioner=myotherapist,
        start=at(YESTERDAY, 10),
        now=at(LAST_WEEK, 21),
    )


def message(appointment, kind):
    return Notification.objects.get(appointment=appointment, kind=kind)


def deliver_at(moment):
    return deliver_batch(claim_due(now=moment), now=moment)


def test_a_booking_schedules_from_its_moment(booked_last_week):
    assert message(booked_last_week, Kind.CONFIRMATION).due_at == at(LAST_WEEK, 21)
    reminders = Notification.objects.filter(appointment=booked_last_week, kind=Kind.REMINDER)
    assert sorted(reminders.values_list("due_at", flat=True)) == [
        at(YESTERDAY, 10) - timedelta(hours=48),
        at(YESTERDAY, 10) - timedelta(hours=2),
    ]


def test_the_quiet_hours_are_those_of_the_given_moment(booked_last_week):
    assert list(deliver_at(at(LAST_WEEK, 21)).values()) == ["deferred"]

    confirmation = message(booked_last_week, Kind.CONFIRMATION)
    assert confirmation.status == Delivery.PENDING
    assert confirmation.due_at == at(LAST_WEEK + timedelta(days=1), 8)


def test_a_message_is_sent_at_the_given_moment(booked_last_week):
    morning = at(LAST_WEEK + timedelta(days=1), 8)
    deliver_at(at(LAST_WEEK, 21))

    assert list(deliver_at(morning).values()) == ["sent"]
    confirmation = message(booked_last_week, Kind.CONFIRMATION)
    assert confirmation.status == Delivery.SENT
    assert confirmation.sent_at == confirmation.updated_at == morning


def test_a_reminder_for_a_visit_begun_by_the_given_moment_is_withdrawn(booked_last_week):
    deliver_at(at(YESTERDAY, 10))

    reminders = Notification.objects.filter(appointment=booked_last_week, kind=Kind.REMINDER)
    assert set(reminders.values_list("status", flat=True)) == {Delivery.WITHDRAWN}
    assert message(booked_last_week, Kind.CONFIRMATION).status == Delivery.SENT
