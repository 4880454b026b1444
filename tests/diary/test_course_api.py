"""POST /api/v1/appointment-series/preview/, POST /api/v1/appointment-series/ and
GET /api/v1/appointment-series/{id}/: courses of visits over HTTP."""

from datetime import timedelta

import pytest

from appointments.models import Appointment, Course, Source, Status
from tests.factories import AppointmentFactory
from tests.fixtures.clinic import TODAY, at

pytestmark = pytest.mark.usefixtures("frozen_now", "fresh_throttles")

SERIES = "/api/v1/appointment-series/"
PREVIEW = SERIES + "preview/"
TUESDAY = TODAY + timedelta(days=1)


@pytest.fixture
def course(assessed_patient, myotherapy, myotherapist, location):
    return {
        "patient": assessed_patient.pk,
        "service": myotherapy.pk,
        "practitioner": myotherapist.pk,
        "location": location.pk,
        "first_date": TUESDAY.isoformat(),
        "at": "10:00",
        "visits": 4,
    }


@pytest.fixture
def third_visit_taken(myotherapy, myotherapist, treatment_rooms, location):
    return AppointmentFactory(
        service=myotherapy,
        practitioner=myotherapist,
        location=location,
        room=treatment_rooms[0],
        start=at(TUESDAY + timedelta(weeks=2), 10),
        status=Status.BOOKED,
    )


class TestPreview:
    def test_reception_sees_each_visit_and_the_alternatives_of_a_taken_one(
        self, as_reception, course, third_visit_taken, myotherapist, second_myotherapist
    ):
        response = as_reception.post(PREVIEW, course, format="json")

        assert response.status_code == 200, response.json()
        body = response.json()
        assert body["practitioner"] == myotherapist.pk
        assert [visit["free"] for visit in body["visits"]] == [True, True, False, True]
        taken = body["visits"][2]
        assert taken["start"] == "2027-04-06T10:00:00+10:00"  # daylight saving has ended
        assert taken["reason"] == "slot_unavailable"
        kinds = {alternative["kind"]: alternative for alternative in taken["alternatives"]}
        assert kinds["other_practitioner"] == {
            "kind": "other_practitioner",
            "start": "2027-04-06T10:00:00+10:00",
            "practitioner": second_myotherapist.pk,
        }
        assert kinds["next_day"]["start"] == "2027-04-07T10:00:00+10:00"
        assert not Course.objects.exists()

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"weekdays": [7]}, "weekdays.0"),
            ({"visits": 0}, "visits"),
            ({"visits": 53}, "visits"),
            ({"until": (TUESDAY + timedelta(days=30)).isoformat()}, "visits"),
            ({"every_weeks": 13}, "every_weeks"),
            ({"at": "ten"}, "at"),
            ({"location": 999999}, "location"),
        ],
    )
    def test_a_rule_that_cannot_be_booked_is_a_400_naming_the_field(
        self, as_reception, course, change, field
    ):
        response = as_reception.post(PREVIEW, {**course, **change}, format="json")

        assert response.status_code == 400
        assert field in response.json()["fields"]

    def test_staff_name_the_patient(self, as_reception, course):
        del course["patient"]

        response = as_reception.post(PREVIEW, course, format="json")

        assert response.status_code == 400 and "patient" in response.json()["fields"]


class TestBooking:
    def test_reception_books_every_visit(self, as_reception, course, assessed_patient):
        response = as_reception.post(SERIES, course, format="json")

        assert response.status_code == 201, response.json()
        body = response.json()
        assert [visit["status"] for visit in body["visits"]] == ["booked"] * 4
        visits = Appointment.objects.filter(course_id=body["id"]).order_by("start")
        assert [visit.pk for visit in visits] == [v["appointment"] for v in body["visits"]]
        assert {(v.patient_id, v.source) for v in visits} == {
            (assessed_patient.pk, Source.RECEPTION)
        }
        assert body["rule"] == {
            "first_date": TUESDAY.isoformat(),
            "at": "10:00",
            "weekdays": [1],
            "every_weeks": 1,
            "visits": 4,
            "until": None,
        }

    def test_one_taken_visit_is_a_409_that_names_it_and_books_nothing(
        self, as_reception, course, third_visit_taken
    ):
        before = Appointment.objects.count()

        response = as_reception.post(SERIES, course, format="json")

        assert response.status_code == 409
        body = response.json()
        assert body["code"] == "course_not_bookable"
        assert [(v["number"], v["code"]) for v in body["visits"]] == [(3, "slot_unavailable")]
        assert Appointment.objects.count() == before and not Course.objects.exists()

    def test_booking_with_a_chosen_alternative_and_a_skipped_visit(
        self, as_reception, course, third_visit_taken, second_myotherapist
    ):
        choices = [
            {
                "number": 3,
                "start": "2027-04-06T10:00:00+10:00",
                "practitioner": second_myotherapist.pk,
            },
            {"number": 4, "skip": True},
        ]

        response = as_reception.post(SERIES, {**course, "choices": choices}, format="json")

        assert response.status_code == 201, response.json()
        visits = response.json()["visits"]
        assert [v["status"] for v in visits] == ["booked", "booked", "booked", "skipped"]
        assert visits[2]["practitioner"] == second_myotherapist.pk

    def test_free_only_books_the_rest(self, as_reception, course, third_visit_taken):
        response = as_reception.post(SERIES, {**course, "free_only": True}, format="json")

        assert response.status_code == 201
        visits = response.json()["visits"]
        assert [v["status"] for v in visits] == ["booked", "booked", "refused", "booked"]
        assert visits[2]["code"] == "slot_unavailable" and visits[2]["appointment"] is None

    def test_a_choice_both_skipped_and_moved_is_a_400(self, as_reception, course):
        choices = [{"number": 2, "skip": True, "start": "2027-03-30T11:00:00+11:00"}]

        response = as_reception.post(SERIES, {**course, "choices": choices}, format="json")

        assert response.status_code == 400
        assert "choices.0.skip" in response.json()["fields"]

    def test_the_same_visit_chosen_twice_is_a_400(self, as_reception, course):
        choices = [{"number": 2, "skip": True}, {"number": 2, "skip": True}]

        response = as_reception.post(SERIES, {**course, "choices": choices}, format="json")

        assert response.status_code == 400 and "choices" in response.json()["fields"]


class TestPatients:
    def test_a_patient_books_their_own_course_where_the_service_allows_it(
        self, as_patient, course, myotherapy, assessed_patient
    ):
        myotherapy.courses_online = True
        myotherapy.save()
        del course["patient"]

        response = as_patient.post(SERIES, course, format="json")

        assert response.status_code == 201, response.json()
        visits = Appointment.objects.filter(course_id=response.json()["id"])
        assert {(v.patient_id, v.source) for v in visits} == {(assessed_patient.pk, Source.ONLINE)}

    def test_not_where_the_clinic_books_the_courses(self, as_patient, course):
        del course["patient"]

        for path in (PREVIEW, SERIES):
            response = as_patient.post(path, course, format="json")

            assert response.status_code == 409
            assert response.json()["code"] == "not_bookable_online"
        assert not Appointment.objects.filter(course__isnull=False).exists()

    def test_a_patient_names_nobody(self, as_patient, course, myotherapy):
        myotherapy.courses_online = True
        myotherapy.save()

        response = as_patient.post(SERIES, course, format="json")

        assert response.status_code == 400 and "patient" in response.json()["fields"]

    def test_an_unconfirmed_email_books_no_course(
        self, as_patient, patient_user, course, myotherapy
    ):
        myotherapy.courses_online = True
        myotherapy.save()
        patient_user.email_verified_at = None
        patient_user.save()
        del course["patient"]

        response = as_patient.post(SERIES, course, format="json")

        assert response.status_code == 403
        assert response.json()["code"] == "email_unverified"


class TestReading:
    @pytest.fixture
    def booked(self, as_reception, course):
        return as_reception.post(SERIES, course, format="json").json()

    def test_the_patient_reads_their_course(self, as_patient, booked):
        response = as_patient.get(f"{SERIES}{booked['id']}/")

        assert response.status_code == 200
        assert [a["id"] for a in response.json()["appointments"]] == [
            v["appointment"] for v in booked["visits"]
        ]

    def test_nobody_else_does(self, as_other_patient, as_other_practitioner, anonymous, booked):
        path = f"{SERIES}{booked['id']}/"

        assert as_other_patient.get(path).status_code == 404
        assert as_other_practitioner.get(path).status_code == 404
        assert anonymous.get(path).status_code == 401

    def test_the_visits_are_appointments_like_any_other(self, as_patient, booked):
        response = as_patient.get("/api/v1/appointments/")

        listed = {appointment["id"] for appointment in response.json()["results"]}
        assert {v["appointment"] for v in booked["visits"]} <= listed


class TestCancelling:
    @pytest.fixture
    def booked(self, as_reception, course):
        return as_reception.post(SERIES, course, format="json").json()

    def test_the_patient_cancels_the_rest_of_their_course(self, as_patient, booked):
        second = booked["visits"][1]["appointment"]

        response = as_patient.post(
            f"{SERIES}{booked['id']}/cancel/",
            {"appointment": second, "scope": "following"},
            format="json",
        )

        assert response.status_code == 200, response.json()
        assert [v["status"] for v in response.json()["visits"]] == ["cancelled"] * 3
        statuses = Appointment.objects.filter(course_id=booked["id"]).order_by("start")
        assert [a.status for a in statuses] == [Status.BOOKED] + [Status.CANCELLED] * 3

    def test_a_visit_of_another_course_is_a_400(self, as_reception, booked, assessed_patient):
        other = AppointmentFactory(patient=assessed_patient, status=Status.BOOKED)

        response = as_reception.post(
            f"{SERIES}{booked['id']}/cancel/",
            {"appointment": other.pk, "scope": "this", "reason": "x"},
            format="json",
        )

        assert response.status_code == 400 and "appointment" in response.json()["fields"]

    def test_an_unknown_scope_is_a_400(self, as_reception, booked):
        response = as_reception.post(
            f"{SERIES}{booked['id']}/cancel/",
            {"appointment": booked["visits"][0]["appointment"], "scope": "some", "reason": "x"},
            format="json",
        )

        assert response.status_code == 400 and "scope" in response.json()["fields"]
