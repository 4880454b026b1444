"""Courses of visits booked in one step: the rule's dates, the preview with alternatives, and
booking where every visit meets the checks and constraints of a single booking."""

from datetime import date, time, timedelta

import pytest

from appointments.courses import (
    ALL,
    FOLLOWING,
    NEXT_DAY,
    OTHER_PRACTITIONER,
    SAME_DAY,
    THIS,
    Choice,
    CourseRule,
    book_course,
    cancel_course_visits,
    preview_course,
)
from appointments.models import Appointment, Course, Source, Status
from appointments.services import book_appointment
from practice.models import Leave
from tests.appointments.booking_helpers import TUESDAY, refusal
from tests.factories import AppointmentFactory
from tests.fixtures.clinic import MELBOURNE, TODAY, at

THURSDAY = TODAY + timedelta(days=3)


def weekly(first: date = TUESDAY, hour: int = 10, **rule) -> CourseRule:
    return CourseRule(first_date=first, at=time(hour), **{"visits": 6, **rule})


class TestTheRule:
    def test_tuesdays_and_thursdays_for_eight_weeks_are_sixteen_visits(self):
        rule = CourseRule(
            first_date=TUESDAY,
            at=time(7),
            weekdays=[3, 1],
            until=TUESDAY + timedelta(weeks=8) - timedelta(days=1),
        )

        days = rule.checked().days()

        assert len(days) == 16
        assert days[:3] == [TUESDAY, THURSDAY, TUESDAY + timedelta(weeks=1)]
        assert {day.weekday() for day in days} == {1, 3}

    def test_every_four_weeks_for_maintenance(self):
        days = CourseRule(first_date=TUESDAY, at=time(9), every_weeks=4, visits=3).checked().days()

        assert days == [TUESDAY, TUESDAY + timedelta(weeks=4), TUESDAY + timedelta(weeks=8)]

    def test_a_weekday_before_the_first_date_starts_the_next_week(self):
        wednesday = TUESDAY + timedelta(days=1)
        days = (
            CourseRule(first_date=wednesday, at=time(9), weekdays=[1, 3], visits=3).checked().days()
        )

        assert days == [THURSDAY, TUESDAY + timedelta(weeks=1), THURSDAY + timedelta(weeks=1)]

    def test_no_weekdays_means_the_first_dates(self):
        assert CourseRule(first_date=TUESDAY, at=time(9), visits=2).checked().weekdays == (1,)

    def test_starts_are_the_time_on_the_locations_clock_across_a_clock_change(self, location):
        # Melbourne leaves daylight saving on Sunday 4 April 2027: 10:00 stays 10:00.
        starts = weekly(visits=3).checked().starts(location)

        assert [start.astimezone(MELBOURNE).time() for start in starts] == [time(10)] * 3
        assert starts[1] - starts[0] == timedelta(weeks=1)
        assert starts[2] - starts[1] == timedelta(weeks=1, hours=1)

    @pytest.mark.parametrize(
        ("rule", "field"),
        [
            ({"weekdays": [7]}, "weekdays"),
            ({"weekdays": [1, 1]}, "weekdays"),
            ({"every_weeks": 0}, "every_weeks"),
            ({"every_weeks": 13}, "every_weeks"),
            ({"visits": 0}, "visits"),
            ({"visits": 53}, "visits"),
            ({"visits": None}, "visits"),  # neither a count nor an end
            ({"until": TUESDAY + timedelta(days=30)}, "visits"),  # both
            ({"visits": None, "until": TUESDAY - timedelta(days=1)}, "until"),
            ({"visits": None, "until": TUESDAY + timedelta(days=500)}, "until"),
            (
                {"visits": None, "weekdays": list(range(7)), "until": TUESDAY + timedelta(days=60)},
                "until",
            ),
        ],
    )
    def test_a_rule_that_cannot_be_booked_names_its_field(self, rule, field):
        error = refusal(lambda: weekly(**rule).checked())

        assert error.code == "invalid"
        assert field in error.fields


class TestPreview:
    def test_every_visit_free(self, assessed_patient, myotherapy, myotherapist, location):
        preview = preview_course(
            service=myotherapy,
            location=location,
            rule=weekly(),
            practitioner=myotherapist,
            patient=assessed_patient,
        )

        assert preview.practitioner == myotherapist
        assert [visit.number for visit in preview.visits] == [1, 2, 3, 4, 5, 6]
        assert all(visit.free and not visit.alternatives for visit in preview.visits)
        assert preview.visits[2].start == at(TUESDAY + timedelta(weeks=2), 10)

    def test_a_taken_visit_comes_with_the_nearest_alternatives(
        self, assessed_patient, myotherapy, myotherapist, second_myotherapist, location
    ):
        third = TUESDAY + timedelta(weeks=2)
        _book_someone_else(myotherapy, myotherapist, at(third, 10))

        preview = preview_course(
            service=myotherapy,
            location=location,
            rule=weekly(),
            practitioner=myotherapist,
            patient=assessed_patient,
        )

        visit = preview.visits[2]
        assert not visit.free and visit.reason == "slot_unavailable"
        by_kind = {alternative.kind: alternative for alternative in visit.alternatives}
        # 10:00-10:45 with its buffer to 11:00 is taken: 9:00 and 11:00 are the nearest
        # free starts on the 15-minute grid (9:00 ends at 9:45 + buffer, 10:00 is taken).
        assert by_kind[SAME_DAY].start in (at(third, 9), at(third, 11))
        assert by_kind[SAME_DAY].practitioner_id == myotherapist.pk
        assert by_kind[OTHER_PRACTITIONER].start == at(third, 10)
        assert by_kind[OTHER_PRACTITIONER].practitioner_id == second_myotherapist.pk
        assert by_kind[NEXT_DAY].start == at(third + timedelta(days=1), 10)
        assert all(v.free for n, v in enumerate(preview.visits) if n != 2)

    def test_the_patients_own_bookings_are_not_offered(
        self, assessed_patient, myotherapy, myotherapist, assessment, location
    ):
        second = TUESDAY + timedelta(weeks=1)
        book_appointment(
            patient=assessed_patient,
            service=myotherapy,
            practitioner=myotherapist,
            start=at(second, 10),
        )

        preview = preview_course(
            service=myotherapy,
            location=location,
            rule=weekly(),
            practitioner=myotherapist,
            patient=assessed_patient,
        )

        assert not preview.visits[1].free

    def test_nobody_named_means_whoever_is_free_at_the_first_visit(
        self, assessed_patient, myotherapy, myotherapist, second_myotherapist, location
    ):
        _book_someone_else(myotherapy, myotherapist, at(TUESDAY, 10))

        preview = preview_course(
            service=myotherapy, location=location, rule=weekly(), patient=assessed_patient
        )

        assert preview.practitioner == second_myotherapist
        assert all(visit.practitioner_id == second_myotherapist.pk for visit in preview.visits)

    def test_a_year_of_weekly_visits_is_one_search(
        self, assessed_patient, myotherapy, myotherapist, location, django_assert_max_num_queries
    ):
        with django_assert_max_num_queries(12):
            preview = preview_course(
                service=myotherapy,
                location=location,
                rule=weekly(visits=52),
                practitioner=myotherapist,
                patient=assessed_patient,
            )

        assert len(preview.visits) == 52


class TestBooking:
    def test_books_every_visit_as_an_appointment_of_the_course(
        self, assessed_patient, myotherapy, myotherapist, location, reception_user
    ):
        booking = book_course(
            patient=assessed_patient,
            service=myotherapy,
            practitioner=myotherapist,
            location=location,
            rule=weekly(),
            created_by=reception_user,
        )

        course = Course.objects.get()
        visits = list(course.appointments.order_by("start"))
        assert booking.course == course and booking.booked == visits
        assert [visit.start for visit in visits] == [
            at(TUESDAY + timedelta(weeks=n), 10) for n in range(6)
        ]
        assert {(v.status, v.practitioner_id, v.source) for v in visits} == {
            (Status.BOOKED, myotherapist.pk, Source.RECEPTION)
        }
        assert course.weekdays == [1] and course.visits == 6 and course.created_by == reception_user

    def test_one_refused_visit_books_nothing(
        self, assessed_patient, myotherapy, myotherapist, location
    ):
        _book_someone_else(myotherapy, myotherapist, at(TUESDAY + timedelta(weeks=2), 10))
        before = Appointment.objects.count()

        error = refusal(
            lambda: book_course(
                patient=assessed_patient,
                service=myotherapy,
                practitioner=myotherapist,
                location=location,
                rule=weekly(),
            )
        )

        assert error.code == "course_not_bookable"
        assert [(v["number"], v["code"]) for v in error.extra["visits"]] == [
            (3, "slot_unavailable")
        ]
        assert Appointment.objects.count() == before
        assert not Course.objects.exists()

    def test_free_only_books_the_rest_and_says_which_was_refused(
        self, assessed_patient, myotherapy, myotherapist, location
    ):
        _book_someone_else(myotherapy, myotherapist, at(TUESDAY + timedelta(weeks=2), 10))

        booking = book_course(
            patient=assessed_patient,
            service=myotherapy,
            practitioner=myotherapist,
            location=location,
            rule=weekly(),
            free_only=True,
        )

        assert len(booking.booked) == 5
        refused = [visit for visit in booking.visits if visit.refused]
        assert [(v.number, v.refused.code) for v in refused] == [(3, "slot_unavailable")]

    def test_chosen_alternatives_and_skipped_visits(
        self, assessed_patient, myotherapy, myotherapist, second_myotherapist, location
    ):
        third, fifth = TUESDAY + timedelta(weeks=2), TUESDAY + timedelta(weeks=4)
        _book_someone_else(myotherapy, myotherapist, at(third, 10))
        _book_someone_else(myotherapy, myotherapist, at(fifth, 10))

        booking = book_course(
            patient=assessed_patient,
            service=myotherapy,
            practitioner=myotherapist,
            location=location,
            rule=weekly(),
            choices={
                3: Choice(start=at(third, 10), practitioner=second_myotherapist),
                5: Choice(skip=True),
            },
        )

        assert len(booking.booked) == 5
        third_visit = booking.visits[2].appointment
        assert third_visit.practitioner == second_myotherapist and third_visit.start == at(
            third, 10
        )
        assert booking.visits[4].skipped and booking.visits[4].appointment is None

    def test_no_visit_is_exempt_from_a_check(
        self, assessed_patient, myotherapy, myotherapist, location
    ):
        fourth = TUESDAY + timedelta(weeks=3)
        Leave.objects.create(
            practitioner=myotherapist, start=at(fourth, 0), end=at(fourth + timedelta(days=1), 0)
        )

        error = refusal(
            lambda: book_course(
                patient=assessed_patient,
                service=myotherapy,
                practitioner=myotherapist,
                location=location,
                rule=weekly(),
            )
        )

        assert [(v["number"], v["code"]) for v in error.extra["visits"]] == [(4, "outside_hours")]

    def test_a_new_patient_is_refused_every_visit_by_the_assessment_rule(
        self, new_patient, myotherapy, myotherapist, location
    ):
        error = refusal(
            lambda: book_course(
                patient=new_patient,
                service=myotherapy,
                practitioner=myotherapist,
                location=location,
                rule=weekly(visits=2),
            )
        )

        assert {v["code"] for v in error.extra["visits"]} == {"new_patient_needs_assessment"}

    def test_online_each_visit_meets_the_horizon(
        self, assessed_patient, myotherapy, myotherapist, location
    ):
        booking = book_course(
            patient=assessed_patient,
            service=myotherapy,
            practitioner=myotherapist,
            location=location,
            rule=weekly(visits=20),
            source=Source.ONLINE,
            free_only=True,
        )

        refused = {visit.refused.code for visit in booking.visits if visit.refused}
        assert refused == {"beyond_booking_horizon"}
        assert 0 < len(booking.booked) < 20

    def test_every_visit_skipped_is_nothing_to_book(
        self, assessed_patient, myotherapy, myotherapist, location
    ):
        error = refusal(
            lambda: book_course(
                patient=assessed_patient,
                service=myotherapy,
                practitioner=myotherapist,
                location=location,
                rule=weekly(visits=2),
                choices={1: Choice(skip=True), 2: Choice(skip=True)},
            )
        )

        assert error.code == "nothing_to_book"
        assert not Course.objects.exists()

    def test_a_choice_for_a_visit_the_course_does_not_have(
        self, assessed_patient, myotherapy, myotherapist, location
    ):
        error = refusal(
            lambda: book_course(
                patient=assessed_patient,
                service=myotherapy,
                practitioner=myotherapist,
                location=location,
                rule=weekly(visits=2),
                choices={3: Choice(skip=True)},
            )
        )

        assert error.code == "invalid" and "choices" in error.fields

    def test_reminders_per_visit(self, assessed_patient, myotherapy, myotherapist, location):
        assessed_patient.consent_email = True
        assessed_patient.save()

        booking = book_course(
            patient=assessed_patient,
            service=myotherapy,
            practitioner=myotherapist,
            location=location,
            rule=weekly(visits=3),
        )

        for visit in booking.booked:
            assert visit.notifications.filter(kind="reminder").exists()


def _book_someone_else(service, practitioner, start) -> Appointment:
    """Another patient's booking at `start`, in the practitioner's first room."""
    return AppointmentFactory(
        service=service,
        practitioner=practitioner,
        location=practitioner.rota.first().location,
        room=practitioner.rota.first().location.rooms.order_by("pk").first(),
        start=start,
        status=Status.BOOKED,
    )


class TestCancelling:
    @pytest.fixture
    def booking(self, assessed_patient, myotherapy, myotherapist, location):
        return book_course(
            patient=assessed_patient,
            service=myotherapy,
            practitioner=myotherapist,
            location=location,
            # The first visit is this afternoon: inside the 24-hour cancellation window.
            rule=weekly(first=TODAY, hour=15, visits=4),
        )

    def statuses(self, booking):
        return [Appointment.objects.get(pk=visit.pk).status for visit in booking.booked]

    def test_this_visit_only(self, booking, reception_user):
        cancel_course_visits(
            appointment=booking.booked[1], scope=THIS, by=reception_user, reason="Away"
        )

        assert self.statuses(booking) == [
            Status.BOOKED,
            Status.CANCELLED,
            Status.BOOKED,
            Status.BOOKED,
        ]

    def test_this_and_the_following(self, booking, reception_user):
        cancel_course_visits(
            appointment=booking.booked[2], scope=FOLLOWING, by=reception_user, reason="Better"
        )

        assert self.statuses(booking)[2:] == [Status.CANCELLED, Status.CANCELLED]
        assert self.statuses(booking)[:2] == [Status.BOOKED, Status.BOOKED]

    def test_all_still_to_come(self, booking, reception_user):
        results = cancel_course_visits(
            appointment=booking.booked[3], scope=ALL, by=reception_user, reason="Moving away"
        )

        assert len(results) == 4
        # By staff inside the window, the first is recorded as a late cancellation.
        assert self.statuses(booking) == [Status.LATE_CANCELLED] + [Status.CANCELLED] * 3

    def test_online_the_window_applies_per_visit(self, booking):
        # This afternoon's first visit is inside the 24-hour window: it stays, the rest go.
        results = cancel_course_visits(
            appointment=booking.booked[0], scope=ALL, by=None, online=True
        )

        assert [r.refused.code if r.refused else "" for r in results] == [
            "inside_cancellation_window",
            "",
            "",
            "",
        ]
        assert self.statuses(booking)[0] == Status.BOOKED

    def test_nothing_cancelled_is_a_refusal_naming_each_visit(self, booking):
        error = refusal(
            lambda: cancel_course_visits(
                appointment=booking.booked[0], scope=THIS, by=None, online=True
            )
        )

        assert error.code == "nothing_to_cancel"
        assert error.extra["visits"][0]["code"] == "inside_cancellation_window"

    def test_staff_give_a_reason(self, booking, reception_user):
        error = refusal(
            lambda: cancel_course_visits(
                appointment=booking.booked[1], scope=ALL, by=reception_user
            )
        )

        assert error.code == "nothing_to_cancel"
        assert {v["code"] for v in error.extra["visits"]} == {"reason_required"}

    def test_an_appointment_of_no_course(self, assessed_patient, myotherapy, myotherapist):
        single = book_appointment(
            patient=assessed_patient,
            service=myotherapy,
            practitioner=myotherapist,
            start=at(TUESDAY, 14),
        )

        error = refusal(
            lambda: cancel_course_visits(appointment=single, scope=ALL, by=None, online=True)
        )

        assert error.code == "not_in_a_course"
