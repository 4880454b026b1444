"""GET /api/v1/classes/ (the timetable, anyone), GET /api/v1/classes/{id}/, POST
/api/v1/classes/{id}/places/ and /series-places/, and /api/v1/class-places/ (cancel,
attendance): a patient books a place in a group class from the API."""

from datetime import time, timedelta

import pytest

from appointments.classes import book_place, schedule_class, schedule_class_series
from appointments.courses import CourseRule
from appointments.models import Attendance, ClassPlace, PlaceStatus, Source
from practice.models import BookingRules
from tests.factories import PatientFactory
from tests.fixtures.api_clients import client_for
from tests.fixtures.clinic import TODAY, at

pytestmark = pytest.mark.usefixtures("frozen_now", "fresh_throttles")

CLASSES = "/api/v1/classes/"
PLACES = "/api/v1/class-places/"
TUESDAY = TODAY + timedelta(days=1)


@pytest.fixture(autouse=True)
def others_need_no_assessment(db):
    """The other attendees are new patients; the rule has its test in tests/appointments."""
    rules = BookingRules.current()
    rules.new_patients_start_with_assessment = False
    rules.save()


@pytest.fixture
def tuesday_class(nmpt_group, coach, location, gym):
    return schedule_class(
        service=nmpt_group, practitioner=coach, location=location, start=at(TUESDAY, 10), capacity=2
    )


def places_of(group_class) -> str:
    return f"{CLASSES}{group_class.pk}/places/"


class TestTheTimetable:
    def test_anyone_sees_the_classes_with_places_left(self, anonymous, tuesday_class):
        response = anonymous.get(CLASSES)

        assert response.status_code == 200
        (row,) = response.json()["results"]
        assert row["id"] == tuesday_class.pk
        assert row["places_left"] == 2
        assert row["start"] == "2027-03-23T10:00:00+11:00"
        assert row["coach"]["name"] == "Cal Coach"

    def test_a_full_class_is_left_out(self, anonymous, tuesday_class):
        for _ in range(2):
            book_place(group_class=tuesday_class, patient=PatientFactory())

        assert anonymous.get(CLASSES).json()["results"] == []

    def test_filtered_by_coach_and_dates(self, anonymous, tuesday_class, coach):
        assert anonymous.get(CLASSES, {"coach": coach.pk + 1}).json()["results"] == []
        later = {"from": (TUESDAY + timedelta(days=1)).isoformat()}
        assert anonymous.get(CLASSES, later).json()["results"] == []
        same_day = {"from": TUESDAY.isoformat(), "to": TUESDAY.isoformat(), "coach": coach.pk}
        assert len(anonymous.get(CLASSES, same_day).json()["results"]) == 1

    def test_a_bad_filter_is_a_400_not_a_500(self, anonymous, tuesday_class):
        assert anonymous.get(CLASSES, {"from": "yesterday"}).status_code == 400
        assert anonymous.get(CLASSES, {"coach": "x"}).status_code == 400


class TestBooking:
    def test_a_patient_books_a_place_from_the_api(self, as_patient, patient_user, tuesday_class):
        response = as_patient.post(places_of(tuesday_class), {}, format="json")

        assert response.status_code == 201, response.json()
        place = ClassPlace.objects.get(pk=response.json()["id"])
        assert (place.patient, place.source) == (patient_user.patient, Source.ONLINE)

    def test_the_second_time_is_already_booked(self, as_patient, tuesday_class):
        as_patient.post(places_of(tuesday_class), {}, format="json")

        response = as_patient.post(places_of(tuesday_class), {}, format="json")

        assert (response.status_code, response.json()["code"]) == (409, "already_booked")

    def test_a_full_class_answers_409_class_full(self, as_patient, tuesday_class):
        for _ in range(2):
            book_place(group_class=tuesday_class, patient=PatientFactory())

        response = as_patient.post(places_of(tuesday_class), {}, format="json")

        assert (response.status_code, response.json()["code"]) == (409, "class_full")

    def test_a_patient_books_for_no_one_else(self, as_patient, tuesday_class):
        other = PatientFactory()

        response = as_patient.post(places_of(tuesday_class), {"patient": other.pk}, format="json")

        assert response.status_code == 400
        assert "patient" in response.json()["fields"]

    def test_reception_books_a_patient_in(self, as_reception, tuesday_class, assessed_patient):
        response = as_reception.post(
            places_of(tuesday_class), {"patient": assessed_patient.pk}, format="json"
        )

        assert response.status_code == 201, response.json()
        assert ClassPlace.objects.get().source == Source.RECEPTION

    def test_anonymous_cannot_book(self, anonymous, tuesday_class):
        assert anonymous.post(places_of(tuesday_class), {}, format="json").status_code == 401

    def test_a_patient_books_the_whole_series(self, as_patient, nmpt_group, coach, location, gym):
        scheduling = schedule_class_series(
            service=nmpt_group,
            practitioner=coach,
            location=location,
            rule=CourseRule(first_date=TUESDAY, at=time(10), weekdays=[1, 3], visits=4),
            capacity=4,
        )

        response = as_patient.post(
            f"{CLASSES}{scheduling.scheduled[0].pk}/series-places/", {}, format="json"
        )

        assert response.status_code == 201, response.json()
        assert len(response.json()["places"]) == 4


class TestWhoSeesWhom:
    def test_a_patient_sees_their_own_place_and_no_one_elses_name(self, as_patient, tuesday_class):
        book_place(group_class=tuesday_class, patient=PatientFactory(first_name="Zed"))
        as_patient.post(places_of(tuesday_class), {}, format="json")

        body = as_patient.get(f"{CLASSES}{tuesday_class.pk}/").json()

        assert body["my_place"]["status"] == PlaceStatus.BOOKED
        assert body["attendees"] is None
        assert "Zed" not in str(body)
        assert len(as_patient.get(PLACES).json()["results"]) == 1

    def test_reception_sees_the_attendees(self, as_reception, tuesday_class):
        book_place(group_class=tuesday_class, patient=PatientFactory(first_name="Zed"))

        body = as_reception.get(f"{CLASSES}{tuesday_class.pk}/").json()

        assert [a["patient"]["name"].split()[0] for a in body["attendees"]] == ["Zed"]

    def test_another_practitioner_sees_no_attendees_of_the_coachs_class(
        self, as_practitioner, tuesday_class
    ):
        book_place(group_class=tuesday_class, patient=PatientFactory(first_name="Zed"))

        body = as_practitioner.get(f"{CLASSES}{tuesday_class.pk}/").json()

        assert body["attendees"] == []

    def test_the_coach_sees_their_attendees(self, coach, tuesday_class):
        book_place(group_class=tuesday_class, patient=PatientFactory(first_name="Zed"))

        body = client_for(coach.user).get(f"{CLASSES}{tuesday_class.pk}/").json()

        assert len(body["attendees"]) == 1


class TestCancellingAndAttendance:
    def test_a_patient_cancels_their_place(self, as_patient, tuesday_class):
        place_id = as_patient.post(places_of(tuesday_class), {}, format="json").json()["id"]

        response = as_patient.post(f"{PLACES}{place_id}/cancel/")

        assert response.status_code == 200
        assert response.json()["status"] == PlaceStatus.CANCELLED

    def test_a_patient_cannot_cancel_someone_elses_place(self, as_patient, tuesday_class):
        place = book_place(group_class=tuesday_class, patient=PatientFactory())

        assert as_patient.post(f"{PLACES}{place.pk}/cancel/").status_code == 404

    def test_reception_marks_attendance(self, reception, tuesday_class, frozen_now):
        place = book_place(group_class=tuesday_class, patient=PatientFactory())
        frozen_now.move_to(at(TUESDAY, 10, 20))

        response = client_for(reception).post(
            f"{PLACES}{place.pk}/attendance/", {"attendance": "no_show"}, format="json"
        )

        assert response.status_code == 200, response.json()
        place.refresh_from_db()
        assert place.attendance == Attendance.NO_SHOW

    def test_a_patient_does_not_mark_attendance(self, as_patient, tuesday_class):
        place_id = as_patient.post(places_of(tuesday_class), {}, format="json").json()["id"]

        response = as_patient.post(
            f"{PLACES}{place_id}/attendance/", {"attendance": "arrived"}, format="json"
        )

        assert response.status_code == 403
