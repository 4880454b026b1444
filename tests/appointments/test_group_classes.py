"""Group NMPT classes: the database keeps places within the capacity and one per patient,
and keeps a class's coach and room apart from one-to-one bookings and holds; the services
book, cancel and mark places, and schedule series."""

from datetime import time, timedelta

import pytest
from django.db import IntegrityError, connection, transaction

from appointments.availability import free_slots
from appointments.classes import (
    book_place,
    book_series_places,
    cancel_class,
    cancel_place,
    mark_attendance,
    schedule_class,
    schedule_class_series,
)
from appointments.courses import CourseRule
from appointments.models import (
    Attendance,
    ClassPlace,
    ClassStatus,
    GroupClass,
    PlaceStatus,
    Source,
)
from appointments.services import book_appointment, hold_slot
from practice.models import BookingRules
from tests.appointments.booking_helpers import TUESDAY, refusal
from tests.factories import AppointmentFactory, PatientFactory
from tests.fixtures.clinic import NOW, TODAY, assess, at, make_coach

THURSDAY = TODAY + timedelta(days=3)
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def patients_need_no_assessment(db):
    """Most tests are about places; the new-patient rule has a test of its own."""
    rules = BookingRules.current()
    rules.new_patients_start_with_assessment = False
    rules.save()


@pytest.fixture
def tuesday_class(nmpt_group, coach, location, gym):
    return schedule_class(
        service=nmpt_group,
        practitioner=coach,
        location=location,
        start=at(TUESDAY, 10),
        capacity=4,
    )


def constraint_of(error: IntegrityError) -> str:
    return error.__cause__.diag.constraint_name


def refused_by_the_database(write) -> str:
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        write()
    return constraint_of(caught.value)


class TestTheDatabase:
    def test_a_raw_insert_beyond_the_capacity_is_refused(self, tuesday_class):
        for _ in range(4):
            book_place(group_class=tuesday_class, patient=PatientFactory())
        patient = PatientFactory()

        def fifth_seat():
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO appointments_classplace (group_class_id, patient_id, seat, "
                    "status, attendance, source, booked_at) "
                    "VALUES (%s, %s, 5, 'booked', '', 'reception', now())",
                    [tuesday_class.pk, patient.pk],
                )

        assert refused_by_the_database(fifth_seat) == "class_place_within_capacity"
        assert tuesday_class.places.filter(status=PlaceStatus.BOOKED).count() == 4

    def test_two_live_places_on_one_seat_are_refused(self, tuesday_class):
        first = book_place(group_class=tuesday_class, patient=PatientFactory())

        def same_seat():
            ClassPlace.objects.create(
                group_class=tuesday_class,
                patient=PatientFactory(),
                seat=first.seat,
                source=Source.RECEPTION,
                booked_at=NOW,
            )

        assert refused_by_the_database(same_seat) == "class_place_one_per_seat"

    def test_one_live_place_per_patient(self, tuesday_class):
        place = book_place(group_class=tuesday_class, patient=PatientFactory())

        def again():
            ClassPlace.objects.create(
                group_class=tuesday_class,
                patient=place.patient,
                seat=2,
                source=Source.RECEPTION,
                booked_at=NOW,
            )

        assert refused_by_the_database(again) == "class_place_once_per_patient"

    def test_the_capacity_is_not_cut_below_the_booked_seats(self, tuesday_class):
        book_place(group_class=tuesday_class, patient=PatientFactory())
        book_place(group_class=tuesday_class, patient=PatientFactory())

        def cut():
            GroupClass.objects.filter(pk=tuesday_class.pk).update(capacity=1)

        assert refused_by_the_database(cut) == "group_class_keeps_its_places"

    def test_a_class_is_not_cancelled_under_its_booked_places(self, tuesday_class):
        book_place(group_class=tuesday_class, patient=PatientFactory())

        def cancel_only_the_class():
            GroupClass.objects.filter(pk=tuesday_class.pk).update(
                status=ClassStatus.CANCELLED, cancelled_at=NOW
            )

        assert refused_by_the_database(cancel_only_the_class) == "group_class_keeps_its_places"

    def test_an_appointment_written_over_the_coachs_class_is_refused(
        self, tuesday_class, coach, nmpt, location, treatment_rooms
    ):
        def over_the_class():
            AppointmentFactory(
                practitioner=coach,
                service=nmpt,
                location=location,
                room=treatment_rooms[0],
                start=at(TUESDAY, 10, 30),
            )

        assert refused_by_the_database(over_the_class) == "group_class_takes_practitioner"

    def test_two_classes_of_one_coach_do_not_overlap(self, tuesday_class, nmpt_group, location):
        refused = refusal(
            lambda: schedule_class(
                service=nmpt_group,
                practitioner=tuesday_class.practitioner,
                location=location,
                start=at(TUESDAY, 10, 30),
                capacity=4,
            )
        )

        assert refused.code == "slot_unavailable"


class TestTheCoachAndTheRoom:
    def test_a_one_to_one_booking_over_the_coachs_class_is_refused(
        self, tuesday_class, coach, assessment, treatment_rooms
    ):
        # In a treatment room: only the coach is taken.
        refused = refusal(
            lambda: book_appointment(
                patient=PatientFactory(),
                service=assessment,
                practitioner=coach,
                start=at(TUESDAY, 10, 30),
            )
        )

        assert refused.code == "slot_unavailable"
        assert "coaching a class" in refused.detail

    def test_the_class_takes_the_whole_gym(self, tuesday_class, nmpt, location, gym):
        other_coach = make_coach(location, gym, "Cora")

        refused = refusal(
            lambda: book_appointment(
                patient=PatientFactory(),
                service=nmpt,
                practitioner=other_coach,
                start=at(TUESDAY, 10),
            )
        )

        assert refused.code == "slot_unavailable"

    def test_free_slots_leave_out_the_class_for_the_coach_and_the_gym(
        self, tuesday_class, nmpt, location, gym
    ):
        make_coach(location, gym, "Cora")
        class_start, class_end = at(TUESDAY, 10), at(TUESDAY, 11)

        slots = free_slots(nmpt, TUESDAY, TUESDAY)

        assert slots  # the rest of the day is offered
        assert not [s for s in slots if s.start < class_end and s.end > class_start]

    def test_a_cancelled_class_frees_its_time(self, tuesday_class, nmpt, coach):
        cancel_class(group_class=tuesday_class, by=None, reason="Coach unwell")

        starts = {s.start for s in free_slots(nmpt, TUESDAY, TUESDAY, coach)}

        assert at(TUESDAY, 10) in starts

    def test_a_class_over_a_booking_of_its_coach_is_refused(
        self, nmpt, nmpt_group, coach, location
    ):
        book_appointment(
            patient=PatientFactory(), service=nmpt, practitioner=coach, start=at(TUESDAY, 10)
        )

        refused = refusal(
            lambda: schedule_class(
                service=nmpt_group,
                practitioner=coach,
                location=location,
                start=at(TUESDAY, 10, 30),
                capacity=4,
            )
        )

        assert refused.code == "slot_unavailable"
        assert GroupClass.objects.count() == 0

    def test_a_class_over_someone_elses_booking_in_the_gym_is_refused(
        self, nmpt, nmpt_group, coach, location, gym
    ):
        other_coach = make_coach(location, gym, "Cora")
        book_appointment(
            patient=PatientFactory(), service=nmpt, practitioner=other_coach, start=at(TUESDAY, 10)
        )

        refused = refusal(
            lambda: schedule_class(
                service=nmpt_group,
                practitioner=coach,
                location=location,
                start=at(TUESDAY, 10),
                capacity=4,
            )
        )

        assert refused.code == "slot_unavailable"

    def test_a_hold_over_the_class_is_refused_and_a_class_over_a_hold(
        self, tuesday_class, nmpt, nmpt_group, coach, location
    ):
        assert (
            refusal(
                lambda: hold_slot(
                    service=nmpt, practitioner=coach, start=at(TUESDAY, 10), client_ip="10.0.0.1"
                )
            ).code
            == "slot_unavailable"
        )
        hold_slot(service=nmpt, practitioner=coach, start=at(TUESDAY, 14), client_ip="10.0.0.1")

        refused = refusal(
            lambda: schedule_class(
                service=nmpt_group,
                practitioner=coach,
                location=location,
                start=at(TUESDAY, 14),
                capacity=4,
            )
        )

        assert refused.code == "slot_unavailable"

    def test_a_class_is_scheduled_in_the_coachs_hours_only(self, nmpt_group, coach, location):
        refused = refusal(
            lambda: schedule_class(
                service=nmpt_group,
                practitioner=coach,
                location=location,
                start=at(TUESDAY, 7),
                capacity=4,
            )
        )

        assert refused.code == "outside_hours"


class TestPlaces:
    def test_places_take_the_first_free_seats(self, tuesday_class):
        first = book_place(group_class=tuesday_class, patient=PatientFactory())
        second = book_place(group_class=tuesday_class, patient=PatientFactory())
        cancel_place(place=first, by=None)

        third = book_place(group_class=tuesday_class, patient=PatientFactory())

        assert (first.seat, second.seat, third.seat) == (1, 2, 1)

    def test_a_full_class_refuses_with_class_full(self, tuesday_class):
        for _ in range(4):
            book_place(group_class=tuesday_class, patient=PatientFactory())

        assert refusal(
            lambda: book_place(group_class=tuesday_class, patient=PatientFactory())
        ).code == ("class_full")

    def test_a_patient_books_one_place(self, tuesday_class):
        patient = PatientFactory()
        book_place(group_class=tuesday_class, patient=patient)

        assert (
            refusal(lambda: book_place(group_class=tuesday_class, patient=patient)).code
            == "already_booked"
        )

    def test_a_cancelled_class_takes_no_places(self, tuesday_class):
        cancel_class(group_class=tuesday_class, by=None, reason="Gym flooded")

        assert (
            refusal(lambda: book_place(group_class=tuesday_class, patient=PatientFactory())).code
            == "class_cancelled"
        )

    def test_a_started_class_takes_no_places(self, tuesday_class, frozen_now):
        frozen_now.move_to(at(TUESDAY, 10, 5))

        assert (
            refusal(lambda: book_place(group_class=tuesday_class, patient=PatientFactory())).code
            == "class_started"
        )

    def test_online_only_where_the_class_allows_it(self, tuesday_class):
        tuesday_class.bookable_online = False
        tuesday_class.save()

        refused = refusal(
            lambda: book_place(
                group_class=tuesday_class, patient=PatientFactory(), source=Source.ONLINE
            )
        )

        assert refused.code == "not_bookable_online"

    def test_online_within_the_lead_time_is_refused(self, tuesday_class, frozen_now):
        frozen_now.move_to(at(TUESDAY, 9))

        refused = refusal(
            lambda: book_place(
                group_class=tuesday_class, patient=PatientFactory(), source=Source.ONLINE
            )
        )

        assert refused.code == "inside_lead_time"

    def test_a_new_patient_starts_with_an_assessment(
        self, tuesday_class, location, treatment_rooms, myotherapist, assessment
    ):
        rules = BookingRules.current()
        rules.new_patients_start_with_assessment = True
        rules.save()
        new, assessed = PatientFactory(), PatientFactory()
        assess(assessed, location, treatment_rooms[0], myotherapist, assessment)

        assert (
            refusal(lambda: book_place(group_class=tuesday_class, patient=new)).code
            == "new_patient_needs_assessment"
        )
        assert book_place(group_class=tuesday_class, patient=assessed).seat == 1


class TestCancellingAndAttendance:
    def test_cancelling_ahead_of_the_window_is_not_late(self, tuesday_class):
        place = book_place(group_class=tuesday_class, patient=PatientFactory())

        cancelled = cancel_place(place=place, by=None, online=True)

        assert (cancelled.status, cancelled.attendance) == (PlaceStatus.CANCELLED, "")

    def test_online_inside_the_window_is_refused(self, tuesday_class, frozen_now):
        place = book_place(group_class=tuesday_class, patient=PatientFactory())
        frozen_now.move_to(at(TUESDAY, 8))

        assert (
            refusal(lambda: cancel_place(place=place, by=None, online=True)).code
            == "inside_cancellation_window"
        )

    def test_staff_inside_the_window_record_a_late_cancellation(self, tuesday_class, frozen_now):
        place = book_place(group_class=tuesday_class, patient=PatientFactory())
        frozen_now.move_to(at(TUESDAY, 8))

        cancelled = cancel_place(place=place, by=None)

        assert cancelled.attendance == Attendance.LATE_CANCEL

    def test_each_attendee_has_their_own_attendance(self, tuesday_class, frozen_now):
        came = book_place(group_class=tuesday_class, patient=PatientFactory())
        stayed_away = book_place(group_class=tuesday_class, patient=PatientFactory())
        frozen_now.move_to(at(TUESDAY, 10, 15))

        mark_attendance(place=came, attendance=Attendance.ARRIVED, by=None)
        mark_attendance(place=stayed_away, attendance=Attendance.NO_SHOW, by=None)

        assert dict(tuesday_class.places.values_list("pk", "attendance")) == {
            came.pk: Attendance.ARRIVED,
            stayed_away.pk: Attendance.NO_SHOW,
        }

    def test_no_one_is_a_no_show_before_the_class(self, tuesday_class, frozen_now):
        place = book_place(group_class=tuesday_class, patient=PatientFactory())
        frozen_now.move_to(at(TUESDAY, 9))

        assert (
            refusal(
                lambda: mark_attendance(place=place, attendance=Attendance.NO_SHOW, by=None)
            ).code
            == "class_not_started"
        )

    def test_cancelling_a_class_cancels_every_place(self, tuesday_class):
        for _ in range(3):
            book_place(group_class=tuesday_class, patient=PatientFactory())

        cancel_class(group_class=tuesday_class, by=None, reason="Coach unwell")

        assert set(tuesday_class.places.values_list("status", flat=True)) == {PlaceStatus.CANCELLED}

    def test_a_class_is_cancelled_with_a_reason(self, tuesday_class):
        assert refusal(
            lambda: cancel_class(group_class=tuesday_class, by=None, reason=" ")
        ).code == ("reason_required")


def tuesdays_and_thursdays(weeks: int = 2) -> CourseRule:
    return CourseRule(first_date=TUESDAY, at=time(10), weekdays=[1, 3], visits=2 * weeks)


class TestSeries:
    def test_a_weekly_series_schedules_a_class_on_each_day(self, nmpt_group, coach, location):
        scheduling = schedule_class_series(
            service=nmpt_group,
            practitioner=coach,
            location=location,
            rule=tuesdays_and_thursdays(),
            capacity=4,
        )

        assert [c.local_start for c in scheduling.scheduled] == [
            at(TUESDAY, 10),
            at(THURSDAY, 10),
            at(TUESDAY + timedelta(weeks=1), 10),
            at(THURSDAY + timedelta(weeks=1), 10),
        ]

    def test_one_refused_class_refuses_the_series_unless_free_only(
        self, nmpt, nmpt_group, coach, location
    ):
        book_appointment(
            patient=PatientFactory(), service=nmpt, practitioner=coach, start=at(THURSDAY, 10)
        )
        series = {
            "service": nmpt_group,
            "practitioner": coach,
            "location": location,
            "rule": tuesdays_and_thursdays(),
            "capacity": 4,
        }

        refused = refusal(lambda: schedule_class_series(**series))
        assert refused.code == "series_not_schedulable"
        assert [c["number"] for c in refused.extra["classes"]] == [2]
        assert GroupClass.objects.count() == 0

        assert len(schedule_class_series(**series, free_only=True).scheduled) == 3

    def test_a_patient_books_every_class_still_to_come(self, nmpt_group, coach, location):
        series = schedule_class_series(
            service=nmpt_group,
            practitioner=coach,
            location=location,
            rule=tuesdays_and_thursdays(),
            capacity=1,
        ).series
        patient = PatientFactory()

        results = book_series_places(series=series, patient=patient)

        assert len([r.place for r in results if r.place]) == 4

    def test_a_full_class_refuses_the_series_unless_free_only(self, nmpt_group, coach, location):
        scheduling = schedule_class_series(
            service=nmpt_group,
            practitioner=coach,
            location=location,
            rule=tuesdays_and_thursdays(),
            capacity=1,
        )
        book_place(group_class=scheduling.scheduled[1], patient=PatientFactory())
        patient = PatientFactory()

        refused = refusal(lambda: book_series_places(series=scheduling.series, patient=patient))
        assert refused.code == "series_not_bookable"
        assert [c["code"] for c in refused.extra["classes"]] == ["class_full"]
        assert not ClassPlace.objects.filter(patient=patient).exists()

        results = book_series_places(series=scheduling.series, patient=patient, free_only=True)
        assert [bool(r.place) for r in results] == [True, False, True, True]
