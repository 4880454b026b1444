"""The waitlist's rules, called as the API and the admin call them."""

from datetime import time, timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from appointments.models import Status
from clinic.celery import app
from kernel.errors import DomainError
from tests.factories import LocationFactory
from tests.fixtures.clinic import TODAY, at
from waitlist import models
from waitlist.models import EndReason, WaitlistEntry
from waitlist.services import (
    Wish,
    change_entry,
    end_expired_entries,
    join_waitlist,
    leave_waitlist,
)
from waitlist.tasks import end_expired_entries as end_expired_entries_task

IN_A_MONTH = TODAY + timedelta(days=30)


def join(patient, service, by, **wish):
    return join_waitlist(
        patient=patient, service=service, by=by, wish=Wish(latest_date=IN_A_MONTH, **wish)
    )


def refused_field(excinfo) -> str:
    (name,) = excinfo.value.fields
    return name


def test_a_patient_joins_for_any_practitioner_location_and_day(patient_user, myotherapy):
    entry = join(patient_user.patient, myotherapy, patient_user)

    assert entry.ended_at is None
    assert entry.created_by == patient_user
    assert list(entry.practitioners.all()) == []
    assert list(entry.locations.all()) == []
    assert entry.weekdays == []


def test_the_wish_is_kept_with_its_weekdays_in_order(
    patient_user, myotherapy, myotherapist, location
):
    entry = join(
        patient_user.patient,
        myotherapy,
        patient_user,
        practitioners=[myotherapist],
        locations=[location],
        weekdays=[3, 1],
        earliest_time=time(9),
        latest_time=time(12),
        earliest_date=TODAY,
    )

    entry.refresh_from_db()
    assert list(entry.practitioners.all()) == [myotherapist]
    assert list(entry.locations.all()) == [location]
    assert entry.weekdays == [1, 3]
    assert (entry.earliest_time, entry.latest_time) == (time(9), time(12))


def test_a_second_open_entry_for_the_same_service_is_refused(patient_user, myotherapy):
    join(patient_user.patient, myotherapy, patient_user)

    with pytest.raises(DomainError) as refusal:
        join(patient_user.patient, myotherapy, patient_user)

    assert refusal.value.code == "already_on_waitlist"
    assert refusal.value.status_code == 409


def test_after_leaving_the_patient_may_join_again(patient_user, myotherapy):
    leave_waitlist(entry=join(patient_user.patient, myotherapy, patient_user))

    again = join(patient_user.patient, myotherapy, patient_user)

    assert again.ended_at is None


def test_only_staff_mark_an_entry_urgent_or_write_its_note(patient_user, reception, myotherapy):
    with pytest.raises(DomainError) as urgent:
        join(patient_user.patient, myotherapy, patient_user, urgent=True)
    with pytest.raises(DomainError) as note:
        join(patient_user.patient, myotherapy, patient_user, note="Call first")

    assert refused_field(urgent) == "urgent"
    assert refused_field(note) == "note"
    entry = join(patient_user.patient, myotherapy, reception, urgent=True, note="Call first")
    assert entry.urgent


@pytest.mark.parametrize(
    ("wish", "field"),
    [
        ({"weekdays": [7]}, "weekdays"),
        ({"weekdays": [-1]}, "weekdays"),
        ({"weekdays": [2, 2]}, "weekdays"),
        ({"earliest_time": time(12), "latest_time": time(12)}, "latest_time"),
        ({"earliest_time": time(13), "latest_time": time(12)}, "latest_time"),
        ({"earliest_date": IN_A_MONTH + timedelta(days=1)}, "latest_date"),
    ],
)
def test_a_wish_that_can_never_match_is_refused_naming_the_field(
    patient_user, myotherapy, wish, field
):
    with pytest.raises(DomainError) as refusal:
        join(patient_user.patient, myotherapy, patient_user, **wish)

    assert refusal.value.status_code == 400
    assert refused_field(refusal) == field


def test_a_latest_date_in_the_past_is_refused(patient_user, myotherapy):
    with pytest.raises(DomainError) as refusal:
        join_waitlist(
            patient=patient_user.patient,
            service=myotherapy,
            by=patient_user,
            wish=Wish(latest_date=TODAY - timedelta(days=1)),
        )

    assert refused_field(refusal) == "latest_date"


def test_a_service_no_longer_offered_is_refused(patient_user, myotherapy):
    myotherapy.is_active = False
    myotherapy.save()

    with pytest.raises(DomainError) as refusal:
        join(patient_user.patient, myotherapy, patient_user)

    assert refused_field(refusal) == "service"


def test_a_practitioner_who_does_not_offer_the_service_is_refused(patient_user, myotherapy, coach):
    with pytest.raises(DomainError) as refusal:
        join(patient_user.patient, myotherapy, patient_user, practitioners=[coach])

    assert refused_field(refusal) == "practitioners"


def test_a_closed_location_is_refused(patient_user, myotherapy):
    closed = LocationFactory(name="Old studio", is_active=False)

    with pytest.raises(DomainError) as refusal:
        join(patient_user.patient, myotherapy, patient_user, locations=[closed])

    assert refused_field(refusal) == "locations"


def test_sooner_than_the_patients_own_upcoming_booking(patient_user, upcoming_myotherapy):
    entry = join(
        patient_user.patient,
        upcoming_myotherapy.service,
        patient_user,
        sooner_than=upcoming_myotherapy,
    )

    assert entry.sooner_than == upcoming_myotherapy


@pytest.mark.parametrize(
    "unlike_own_upcoming",
    ["another patient's", "another service's", "cancelled", "past"],
)
def test_sooner_than_anything_but_the_patients_own_upcoming_booking_is_refused(
    patient_user, other_patient, upcoming_myotherapy, nmpt, myotherapy, unlike_own_upcoming
):
    booking = upcoming_myotherapy
    if unlike_own_upcoming == "another patient's":
        booking.patient = other_patient
    elif unlike_own_upcoming == "another service's":
        booking.service = nmpt
    elif unlike_own_upcoming == "cancelled":
        booking.status = Status.CANCELLED
        booking.cancelled_at = timezone.now()
    else:
        booking.start -= timedelta(weeks=4)
        booking.end -= timedelta(weeks=4)
        booking.blocked_until -= timedelta(weeks=4)
    booking.save()

    with pytest.raises(DomainError) as refusal:
        join(patient_user.patient, myotherapy, patient_user, sooner_than=booking)

    assert refused_field(refusal) == "sooner_than"


def test_changing_an_entry_keeps_what_is_not_named(patient_user, myotherapy, myotherapist):
    entry = join(patient_user.patient, myotherapy, patient_user, practitioners=[myotherapist])

    change_entry(entry=entry, changes={"weekdays": [4]}, by=patient_user)

    entry.refresh_from_db()
    assert entry.weekdays == [4]
    assert list(entry.practitioners.all()) == [myotherapist]
    assert entry.latest_date == IN_A_MONTH


def test_a_change_follows_the_same_rules(patient_user, myotherapy):
    entry = join(patient_user.patient, myotherapy, patient_user, earliest_time=time(10))

    with pytest.raises(DomainError) as refusal:
        change_entry(entry=entry, changes={"latest_time": time(9)}, by=patient_user)

    assert refused_field(refusal) == "latest_time"


def test_an_ended_entry_is_neither_changed_nor_left_again(patient_user, myotherapy):
    entry = leave_waitlist(entry=join(patient_user.patient, myotherapy, patient_user))

    with pytest.raises(DomainError) as change:
        change_entry(entry=entry, changes={"weekdays": [1]}, by=patient_user)
    with pytest.raises(DomainError) as leave:
        leave_waitlist(entry=entry, reason=EndReason.REMOVED_BY_STAFF)

    assert change.value.code == leave.value.code == "entry_ended"
    entry.refresh_from_db()
    assert entry.end_reason == EndReason.LEFT


def test_leaving_ends_the_entry_with_the_reason(patient_user, myotherapy):
    entry = leave_waitlist(entry=join(patient_user.patient, myotherapy, patient_user))

    entry.refresh_from_db()
    assert entry.ended_at == timezone.now()
    assert entry.end_reason == EndReason.LEFT


def test_entries_end_as_expired_the_day_after_their_latest_date(
    patient_user, other_patient, reception, myotherapy, frozen_now
):
    lasts_today = join_waitlist(
        patient=patient_user.patient, service=myotherapy, by=patient_user, wish=Wish(TODAY)
    )
    lasts_tomorrow = join_waitlist(
        patient=other_patient,
        service=myotherapy,
        by=reception,
        wish=Wish(TODAY + timedelta(days=1)),
    )

    assert end_expired_entries() == 0
    frozen_now.move_to(at(TODAY + timedelta(days=1), 0, 30))
    assert end_expired_entries_task() == 1

    lasts_today.refresh_from_db()
    lasts_tomorrow.refresh_from_db()
    assert lasts_today.end_reason == EndReason.EXPIRED
    assert lasts_tomorrow.ended_at is None
    assert end_expired_entries_task() == 0  # safe to run twice


@pytest.mark.parametrize(
    ("raw", "constraint"),
    [
        ({"weekdays": [7]}, models.WEEKDAYS_IN_RANGE),
        ({"earliest_time": time(12), "latest_time": time(11)}, models.TIMES_IN_ORDER),
        ({"earliest_date": IN_A_MONTH + timedelta(days=1)}, models.DATES_IN_ORDER),
        ({"ended_at": timezone.now}, models.ENDED_WITH_REASON),
        ({"end_reason": EndReason.LEFT}, models.ENDED_WITH_REASON),
    ],
)
def test_the_database_refuses_what_the_rules_refuse(assessed_patient, myotherapy, raw, constraint):
    values = {name: value() if callable(value) else value for name, value in raw.items()}

    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        WaitlistEntry.objects.create(
            patient=assessed_patient, service=myotherapy, latest_date=IN_A_MONTH, **values
        )


def test_the_database_refuses_a_second_open_entry(assessed_patient, myotherapy):
    WaitlistEntry.objects.create(
        patient=assessed_patient, service=myotherapy, latest_date=IN_A_MONTH
    )

    with pytest.raises(IntegrityError, match=models.ONE_OPEN_ENTRY), transaction.atomic():
        WaitlistEntry.objects.create(
            patient=assessed_patient, service=myotherapy, latest_date=IN_A_MONTH
        )
    WaitlistEntry.objects.create(
        patient=assessed_patient,
        service=myotherapy,
        latest_date=IN_A_MONTH,
        ended_at=timezone.now(),
        end_reason=EndReason.LEFT,
    )


def test_a_patient_changes_an_entry_the_desk_marked_urgent(patient_user, reception, myotherapy):
    entry = join(patient_user.patient, myotherapy, reception, urgent=True, note="Call first")

    change_entry(entry=entry, changes={"weekdays": [2]}, by=patient_user)

    entry.refresh_from_db()
    assert entry.urgent and entry.note == "Call first"
    with pytest.raises(DomainError) as refusal:
        change_entry(entry=entry, changes={"urgent": False, "note": "x"}, by=patient_user)
    assert refused_field(refusal) == "note"


def test_beat_runs_the_expiry_sweep_hourly(settings):
    (entry,) = [
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "waitlist.tasks.end_expired_entries"
    ]

    assert entry["schedule"] == 3600.0
    assert app.tasks[entry["task"]] is not None


def test_an_entry_waits_since_the_moment_given(patient_user, myotherapy):
    earlier = at(TODAY - timedelta(days=3), 9)

    entry = join_waitlist(
        patient=patient_user.patient,
        service=myotherapy,
        by=patient_user,
        wish=Wish(latest_date=IN_A_MONTH),
        now=earlier,
    )

    entry.refresh_from_db()
    assert entry.created_at == earlier
