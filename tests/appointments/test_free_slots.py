from datetime import date, time, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments.availability import free_slots, working_windows
from appointments.models import Status
from practice.models import BookingRules, Break, ExtraHours, Leave
from tests.factories import (
    AppointmentFactory,
    PatientFactory,
    PractitionerFactory,
    RoomFactory,
    ServiceFactory,
    WorkingHoursFactory,
)
from tests.fixtures.clinic import MELBOURNE, TODAY, at, make_coach, work_every_day

TUESDAY = TODAY + timedelta(days=1)


def local_starts(slots, day=None):
    """The slots' starts as Melbourne wall-clock 'HH:MM' labels (optionally one day's)."""
    labels = []
    for slot in slots:
        local = slot.start.astimezone(MELBOURNE)
        if day is None or local.date() == day:
            labels.append(f"{local:%H:%M}")
    return labels


def quarter_hours(first: str, last: str) -> list[str]:
    h, m = map(int, first.split(":"))
    labels = []
    while f"{h:02d}:{m:02d}" <= last:
        labels.append(f"{h:02d}:{m:02d}")
        h, m = (h + 1, 0) if m == 45 else (h, m + 15)
    return labels


def test_a_rota_day_offers_every_grid_start_that_fits_before_closing(assessment, myotherapist):
    slots = free_slots(assessment, TUESDAY, TUESDAY)

    assert local_starts(slots) == quarter_hours("09:00", "16:00")
    assert all(slot.end - slot.start == timedelta(minutes=60) for slot in slots)
    assert {slot.practitioner_id for slot in slots} == {myotherapist.pk}


def test_the_grid_follows_the_booking_rules(assessment, myotherapist):
    BookingRules.objects.filter(pk=1).update(slot_grid_minutes=30)

    slots = free_slots(assessment, TUESDAY, TUESDAY)

    assert local_starts(slots)[:3] == ["09:00", "09:30", "10:00"]
    assert local_starts(slots)[-1] == "16:00"


def test_breaks_are_left_out(assessment, myotherapist):
    tuesday_hours = myotherapist.rota.get(weekday=TUESDAY.weekday())
    Break.objects.create(working_hours=tuesday_hours, start_time=time(12), end_time=time(12, 30))

    starts = local_starts(free_slots(assessment, TUESDAY, TUESDAY))

    assert "11:00" in starts and "12:30" in starts
    assert not {"11:15", "11:30", "11:45", "12:00", "12:15"} & set(starts)


def test_working_time_is_the_rota_less_every_break_plus_extra_hours_in_one_query(
    myotherapist, location
):
    tuesday_hours = myotherapist.rota.get(weekday=TUESDAY.weekday())
    for start, end in ((time(15), time(15, 30)), (time(11), time(11, 15))):
        Break.objects.create(working_hours=tuesday_hours, start_time=start, end_time=end)
    ExtraHours.objects.create(
        practitioner=myotherapist,
        location=location,
        date=TUESDAY,
        start_time=time(18),
        end_time=time(19, 30),
    )

    with CaptureQueriesContext(connection) as captured:
        windows = working_windows([myotherapist.pk], TUESDAY, TUESDAY)

    assert len(captured) == 1
    assert sorted((w.start_second // 60, w.end_second // 60) for w in windows) == [
        (9 * 60, 11 * 60),
        (11 * 60 + 15, 15 * 60),
        (15 * 60 + 30, 17 * 60),
        (18 * 60, 19 * 60 + 30),
    ]
    assert {(w.practitioner_id, w.location_id, w.day) for w in windows} == {
        (myotherapist.pk, location.pk, TUESDAY)
    }


def test_leave_is_left_out(assessment, myotherapist):
    Leave.objects.create(
        practitioner=myotherapist, start=at(TUESDAY, 13), end=at(TUESDAY + timedelta(days=1), 17)
    )

    slots = free_slots(assessment, TUESDAY, TUESDAY + timedelta(days=2))

    assert local_starts(slots, TUESDAY)[-1] == "12:00"
    assert local_starts(slots, TUESDAY + timedelta(days=1)) == []
    assert local_starts(slots, TUESDAY + timedelta(days=2))[0] == "09:00"


def test_booked_time_and_its_buffer_are_left_out(
    myotherapy, myotherapist, assessed_patient, location, treatment_rooms
):
    # 10:00-10:45 plus a 15-minute buffer keeps the practitioner busy until 11:00.
    AppointmentFactory(
        patient=assessed_patient,
        practitioner=myotherapist,
        service=myotherapy,
        location=location,
        room=treatment_rooms[0],
        start=at(TUESDAY, 10),
        status=Status.BOOKED,
    )

    starts = local_starts(free_slots(myotherapy, TUESDAY, TUESDAY))

    # A 09:15 start would run, with its own buffer, into the 10:00 session.
    assert "09:00" in starts and "11:00" in starts
    assert not set(quarter_hours("09:15", "10:45")) & set(starts)


def test_cancelled_and_no_show_appointments_free_their_time(
    assessment, myotherapist, assessed_patient, location, treatment_rooms
):
    for status, hour in ((Status.CANCELLED, 10), (Status.NO_SHOW, 13)):
        AppointmentFactory(
            patient=assessed_patient,
            practitioner=myotherapist,
            service=assessment,
            location=location,
            room=treatment_rooms[0],
            start=at(TUESDAY, hour),
            status=status,
            cancelled_at=at(TODAY, 8) if status == Status.CANCELLED else None,
        )

    starts = local_starts(free_slots(assessment, TUESDAY, TUESDAY))

    assert {"10:00", "13:00"} <= set(starts)


def test_a_slot_needs_a_free_room_of_the_right_kind(
    assessment, myotherapist, second_myotherapist, location, treatment_rooms
):
    # Both treatment rooms are taken 10:00-11:00 by other practitioners' patients.
    third = PractitionerFactory()
    work_every_day(third, location)
    for practitioner, room in (
        (second_myotherapist, treatment_rooms[0]),
        (third, treatment_rooms[1]),
    ):
        AppointmentFactory(
            practitioner=practitioner,
            service=assessment,
            location=location,
            room=room,
            start=at(TUESDAY, 10),
            status=Status.BOOKED,
        )

    slots = free_slots(assessment, TUESDAY, TUESDAY, practitioner=myotherapist)

    assert not set(quarter_hours("09:15", "10:45")) & set(local_starts(slots))
    assert {"09:00", "11:00"} <= set(local_starts(slots))


def test_the_gym_takes_as_many_sessions_as_its_capacity(nmpt, location, gym):
    coaches = [make_coach(location, gym, name) for name in ("Ann", "Ben", "Cat", "Dan")]
    for coach in coaches[:2]:
        AppointmentFactory(
            practitioner=coach,
            service=nmpt,
            location=location,
            room=gym,
            room_place=coaches.index(coach) + 1,
            start=at(TUESDAY, 10),
            status=Status.BOOKED,
        )

    two_taken = free_slots(nmpt, TUESDAY, TUESDAY, practitioner=coaches[3])
    AppointmentFactory(
        practitioner=coaches[2],
        service=nmpt,
        location=location,
        room=gym,
        room_place=3,
        start=at(TUESDAY, 10),
        status=Status.BOOKED,
    )
    all_taken = free_slots(nmpt, TUESDAY, TUESDAY, practitioner=coaches[3])

    assert "10:00" in local_starts(two_taken)
    assert "10:00" not in local_starts(all_taken)
    assert "10:45" in local_starts(all_taken)


def test_online_slots_respect_the_lead_time(assessment, myotherapist):
    # It is 08:00; the lead time is two hours.
    staff_view = local_starts(free_slots(assessment, TODAY, TODAY))
    online_view = local_starts(free_slots(assessment, TODAY, TODAY, online=True))

    assert staff_view[0] == "09:00"
    assert online_view[0] == "10:00"


def test_online_slots_stop_at_the_horizon(assessment, myotherapist):
    # Eight weeks from 08:00 today ends before the clinic opens on the horizon day.
    horizon_day = TODAY + timedelta(days=BookingRules.current().online_horizon_days)
    last_day = horizon_day - timedelta(days=1)

    assert local_starts(free_slots(assessment, last_day, last_day, online=True))
    assert free_slots(assessment, horizon_day, horizon_day + timedelta(days=7), online=True) == []
    assert free_slots(assessment, horizon_day, horizon_day)  # staff are not held to it


def test_online_offers_only_services_bookable_online(myotherapist):
    phone_only = ServiceFactory(bookable_online=False)

    assert free_slots(phone_only, TUESDAY, TUESDAY, online=True) == []
    assert free_slots(phone_only, TUESDAY, TUESDAY)


def test_past_times_are_never_offered(assessment, myotherapist):
    with time_machine.travel(at(TODAY, 12, 5), tick=False):
        starts = local_starts(free_slots(assessment, TODAY, TODAY))

    assert starts[0] == "12:15"


def test_only_practitioners_whose_disciplines_deliver_the_service(
    nmpt, assessment, myotherapist, coach
):
    nmpt_slots = free_slots(nmpt, TUESDAY, TUESDAY)
    assessment_slots = free_slots(assessment, TUESDAY, TUESDAY)

    assert {slot.practitioner_id for slot in nmpt_slots} == {coach.pk}
    assert {slot.practitioner_id for slot in assessment_slots} == {myotherapist.pk, coach.pk}


def test_inactive_practitioners_offer_nothing(assessment, myotherapist):
    myotherapist.is_active = False
    myotherapist.save()

    assert free_slots(assessment, TUESDAY, TUESDAY) == []


def test_extra_hours_add_one_off_slots(assessment, location, treatment_rooms):
    practitioner = PractitionerFactory()
    ExtraHours.objects.create(
        practitioner=practitioner,
        location=location,
        date=TUESDAY,
        start_time=time(18),
        end_time=time(20),
    )

    assert local_starts(free_slots(assessment, TUESDAY, TUESDAY)) == quarter_hours("18:00", "19:00")
    assert free_slots(assessment, TUESDAY + timedelta(days=1), TUESDAY + timedelta(days=1)) == []


def test_rota_lines_apply_only_within_their_validity(assessment, location, treatment_rooms):
    practitioner = PractitionerFactory()
    WorkingHoursFactory(
        practitioner=practitioner,
        location=location,
        weekday=TUESDAY.weekday(),
        valid_from=TUESDAY + timedelta(days=7),
    )

    assert free_slots(assessment, TUESDAY, TUESDAY) == []
    next_tuesday = TUESDAY + timedelta(days=7)
    assert free_slots(assessment, next_tuesday, next_tuesday)


def test_filtering_by_practitioner_and_location(
    assessment, myotherapist, second_myotherapist, location
):
    elsewhere = RoomFactory(name="CBD room").location
    WorkingHoursFactory(
        practitioner=second_myotherapist,
        location=elsewhere,
        weekday=TUESDAY.weekday(),
        start_time=time(18),
        end_time=time(20),
    )

    mine = free_slots(assessment, TUESDAY, TUESDAY, practitioner=myotherapist)
    at_cbd = free_slots(assessment, TUESDAY, TUESDAY, location=elsewhere)

    assert {slot.practitioner_id for slot in mine} == {myotherapist.pk}
    assert {(slot.practitioner_id, slot.location_id) for slot in at_cbd} == {
        (second_myotherapist.pk, elsewhere.pk)
    }
    assert local_starts(at_cbd) == quarter_hours("18:00", "19:00")


def test_slots_are_sorted_and_unique(assessment, myotherapist, second_myotherapist):
    slots = free_slots(assessment, TUESDAY, TUESDAY + timedelta(days=6))
    keys = [(slot.start, slot.practitioner_id) for slot in slots]

    assert keys == sorted(keys)
    assert len(keys) == len(set(keys))


class TestDaylightSaving:
    """Melbourne: clocks go forward at 02:00 on 3 Oct 2027 and back at 03:00 on 4 Apr 2027."""

    @pytest.mark.parametrize(
        ("now", "change_day"),
        [(at(date(2027, 9, 27), 8), date(2027, 10, 3)), (at(TODAY, 8), date(2027, 4, 4))],
        ids=["october", "april"],
    )
    def test_a_nine_to_five_rota_starts_at_nine_local_on_both_sides(
        self, assessment, myotherapist, now, change_day
    ):
        with time_machine.travel(now, tick=False):
            days = [change_day + timedelta(days=n) for n in (-1, 0, 1)]
            slots = free_slots(assessment, days[0], days[-1])

        for day in days:
            assert local_starts(slots, day) == quarter_hours("09:00", "16:00")
        offsets = {slot.start.astimezone(MELBOURNE).utcoffset() for slot in slots}
        assert offsets == {timedelta(hours=10), timedelta(hours=11)}

    def test_no_slot_in_the_skipped_hour(self, assessment, location, treatment_rooms):
        change_day = date(2027, 10, 3)
        night_owl = PractitionerFactory()
        WorkingHoursFactory(
            practitioner=night_owl,
            location=location,
            weekday=change_day.weekday(),
            start_time=time(1),
            end_time=time(4),
        )

        with time_machine.travel(at(date(2027, 9, 27), 8), tick=False):
            slots = free_slots(assessment, change_day, change_day)

        # 02:00-02:59 does not exist that night; a 60-minute session must end by 04:00.
        assert local_starts(slots) == ["01:00", "01:15", "01:30", "01:45", "03:00"]
        assert len({slot.start for slot in slots}) == len(slots)

    def test_no_slot_doubled_in_the_repeated_hour(self, assessment, location, treatment_rooms):
        change_day = date(2027, 4, 4)
        night_owl = PractitionerFactory()
        WorkingHoursFactory(
            practitioner=night_owl,
            location=location,
            weekday=change_day.weekday(),
            start_time=time(1),
            end_time=time(4),
        )

        slots = free_slots(assessment, change_day, change_day)
        starts = local_starts(slots)

        assert starts == quarter_hours("01:00", "03:00")
        assert len(set(starts)) == len(starts)
        assert len({slot.start for slot in slots}) == len(slots)


def test_query_count_does_not_grow_with_days_or_practitioners(
    assessment, location, treatment_rooms, myotherapist
):
    def queries_for(start_date, end_date):
        with CaptureQueriesContext(connection) as captured:
            free_slots(assessment, start_date, end_date)
        return len(captured)

    one_day_one_practitioner = queries_for(TUESDAY, TUESDAY)

    for n in range(6):
        practitioner = PractitionerFactory()
        for line in work_every_day(practitioner, location):
            Break.objects.create(working_hours=line, start_time=time(12), end_time=time(13))
        Leave.objects.create(
            practitioner=practitioner,
            start=at(TUESDAY + timedelta(days=n), 9),
            end=at(TUESDAY + timedelta(days=n), 11),
        )
        ExtraHours.objects.create(
            practitioner=practitioner,
            location=location,
            date=TUESDAY + timedelta(days=n),
            start_time=time(18),
            end_time=time(19),
        )
        AppointmentFactory(
            patient=PatientFactory(),
            practitioner=practitioner,
            service=assessment,
            location=location,
            room=treatment_rooms[n % 2],
            start=at(TUESDAY + timedelta(days=n), 14),
            status=Status.BOOKED,
        )
    fortnight_seven_practitioners = queries_for(TUESDAY, TUESDAY + timedelta(days=13))

    assert fortnight_seven_practitioners == one_day_one_practitioner
    assert one_day_one_practitioner <= 8
