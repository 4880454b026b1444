from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.throttling import ScopedRateThrottle

from appointments.models import Appointment, Source, Status
from appointments.services import book_appointment
from tests.factories import PatientFactory
from tests.fixtures.api_clients import client_for
from tests.fixtures.clinic import TODAY, at
from treatments.services import clear_red_flags, submit_intake

pytestmark = pytest.mark.usefixtures("frozen_now", "fresh_throttles")

APPOINTMENTS = "/api/v1/appointments/"
THURSDAY = TODAY + timedelta(days=3)


def booking(service, practitioner, start, **extra):
    return {"service": service.pk, "practitioner": practitioner.pk, "start": start, **extra}


@pytest.fixture
def patients_appointment(assessed_patient, patient_user, myotherapy, myotherapist):
    return book_appointment(
        patient=assessed_patient,
        service=myotherapy,
        practitioner=myotherapist,
        start=at(THURSDAY, 10),
    )


@pytest.fixture
def other_patients_appointment(other_patient_user, assessment, second_myotherapist):
    return book_appointment(
        patient=other_patient_user.patient,
        service=assessment,
        practitioner=second_myotherapist,
        start=at(THURSDAY, 11),
    )


class TestPatientBooks:
    def test_a_patient_books_for_themselves_online(
        self, as_patient, assessed_patient, myotherapy, myotherapist
    ):
        response = as_patient.post(
            APPOINTMENTS, booking(myotherapy, myotherapist, "2027-03-25T10:00:00+11:00")
        )

        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["start"] == "2027-03-25T10:00:00+11:00"
        assert body["end"] == "2027-03-25T10:45:00+11:00"
        assert body["status"] == "booked" and body["source"] == "online"
        assert body["patient"]["id"] == assessed_patient.pk
        assert body["note"] is None

    def test_a_patient_cannot_book_for_someone_else(
        self, as_patient, assessed_patient, other_patient_user, myotherapy, myotherapist
    ):
        response = as_patient.post(
            APPOINTMENTS,
            booking(
                myotherapy,
                myotherapist,
                "2027-03-25T10:00:00+11:00",
                patient=other_patient_user.patient.pk,
                status="completed",
                price="0.00",
            ),
        )

        # Refused, naming what is not the patient's to send (issue 16: never dropped in silence).
        assert response.status_code == 400
        assert set(response.json()["fields"]) == {"patient", "status", "price"}
        assert not Appointment.objects.filter(start__date="2027-03-25").exists()

    def test_a_taken_slot_is_409(
        self, as_patient, as_other_patient, assessment, myotherapist, other_patient_user
    ):
        start = "2027-03-25T10:00:00+11:00"
        as_other_patient.post(APPOINTMENTS, booking(assessment, myotherapist, start))

        response = as_patient.post(APPOINTMENTS, booking(assessment, myotherapist, start))

        assert response.status_code == 409
        assert response.json()["code"] == "slot_unavailable"
        assert "Bea" not in response.content.decode()  # nothing about who holds it

    def test_a_new_patient_must_book_the_assessment_first(
        self, as_new_patient, myotherapy, assessment, myotherapist
    ):
        refused = as_new_patient.post(
            APPOINTMENTS, booking(myotherapy, myotherapist, "2027-03-25T10:00:00+11:00")
        )
        assessed = as_new_patient.post(
            APPOINTMENTS, booking(assessment, myotherapist, "2027-03-25T10:00:00+11:00")
        )

        assert refused.status_code == 409
        assert refused.json()["code"] == "new_patient_needs_assessment"
        assert assessed.status_code == 201

    def test_a_patient_cannot_hold_two_overlapping_appointments(
        self, as_patient, assessment, myotherapist, second_myotherapist
    ):
        as_patient.post(
            APPOINTMENTS, booking(assessment, myotherapist, "2027-03-25T10:00:00+11:00")
        )

        response = as_patient.post(
            APPOINTMENTS, booking(assessment, second_myotherapist, "2027-03-25T10:30:00+11:00")
        )

        assert response.status_code == 409
        assert response.json()["code"] == "slot_unavailable"

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"start": "2027-03-25T10:00:00"}, "start"),  # no offset
            ({"start": "tomorrow"}, "start"),
            ({"practitioner": 999999}, "practitioner"),
            ({"service": None}, "service"),
            ({"location": "x"}, "location"),
        ],
    )
    def test_bad_input_is_400_naming_the_field(
        self, as_patient, assessment, myotherapist, changes, field
    ):
        body = booking(assessment, myotherapist, "2027-03-25T10:00:00+11:00")
        body.update(changes)

        response = as_patient.post(APPOINTMENTS, body)

        assert response.status_code == 400
        assert field in response.json()["fields"]
        assert not Appointment.objects.filter(status=Status.BOOKED).exists()


class TestStaffBook:
    def test_reception_books_for_a_patient_with_a_note(
        self, as_reception, reception, new_patient, assessment, myotherapist
    ):
        response = as_reception.post(
            APPOINTMENTS,
            booking(
                assessment,
                myotherapist,
                "2027-03-22T09:05:00+11:00",  # off the grid and inside the lead time
                patient=new_patient.pk,
                note="Prefers the ground-floor room",
            ),
        )

        assert response.status_code == 201, response.json()
        appointment = Appointment.objects.get(pk=response.json()["id"])
        assert appointment.source == Source.RECEPTION and appointment.created_by == reception
        assert response.json()["note"] == "Prefers the ground-floor room"

    def test_staff_must_name_the_patient(self, as_reception, assessment, myotherapist):
        response = as_reception.post(
            APPOINTMENTS, booking(assessment, myotherapist, "2027-03-25T10:00:00+11:00")
        )

        assert response.status_code == 400 and "patient" in response.json()["fields"]

    def test_a_practitioner_books_patients_they_treat(
        self, as_practitioner, assessed_patient, myotherapy, myotherapist
    ):
        response = as_practitioner.post(
            APPOINTMENTS,
            booking(
                myotherapy, myotherapist, "2027-03-25T10:00:00+11:00", patient=assessed_patient.pk
            ),
        )

        assert response.status_code == 201
        assert response.json()["source"] == "practitioner"

    def test_a_practitioner_cannot_book_a_stranger(
        self, as_other_practitioner, assessed_patient, assessment, second_myotherapist
    ):
        response = as_other_practitioner.post(
            APPOINTMENTS,
            booking(
                assessment,
                second_myotherapist,
                "2027-03-25T10:00:00+11:00",
                patient=assessed_patient.pk,
            ),
        )

        assert response.status_code == 400 and "patient" in response.json()["fields"]


class TestWhoSeesWhat:
    def test_a_patient_lists_only_their_own(
        self, as_patient, patients_appointment, other_patients_appointment
    ):
        body = as_patient.get(APPOINTMENTS).json()

        ids = {a["id"] for a in body["results"]}
        assert patients_appointment.pk in ids
        assert other_patients_appointment.pk not in ids
        assert "Bea" not in str(body)

    def test_another_patients_appointment_is_404(self, as_patient, other_patients_appointment):
        pk = other_patients_appointment.pk

        assert as_patient.get(f"{APPOINTMENTS}{pk}/").status_code == 404
        assert as_patient.post(f"{APPOINTMENTS}{pk}/cancel/").status_code == 404
        moved = as_patient.post(
            f"{APPOINTMENTS}{pk}/reschedule/", {"start": "2027-03-26T10:00:00+11:00"}
        )
        assert moved.status_code == 404
        other_patients_appointment.refresh_from_db()
        assert other_patients_appointment.status == Status.BOOKED

    def test_reception_and_managers_see_every_booking(
        self, as_reception, as_manager, patients_appointment, other_patients_appointment
    ):
        for client in (as_reception, as_manager):
            ids = {a["id"] for a in client.get(APPOINTMENTS).json()["results"]}
            assert {patients_appointment.pk, other_patients_appointment.pk} <= ids

    def test_a_practitioner_sees_their_own_diary(
        self, as_practitioner, patients_appointment, other_patients_appointment
    ):
        ids = {a["id"] for a in as_practitioner.get(APPOINTMENTS).json()["results"]}

        assert patients_appointment.pk in ids
        assert other_patients_appointment.pk not in ids

    def test_anonymous_is_401(self, anonymous, patients_appointment):
        assert anonymous.get(APPOINTMENTS).status_code == 401
        assert anonymous.get(f"{APPOINTMENTS}{patients_appointment.pk}/").status_code == 401
        assert anonymous.post(APPOINTMENTS, {}).json()["code"] == "not_authenticated"


class TestCancel:
    def test_a_patient_cancels_their_own(self, as_patient, patients_appointment):
        response = as_patient.post(f"{APPOINTMENTS}{patients_appointment.pk}/cancel/")

        assert response.status_code == 200
        assert response.json()["status"] == "cancelled"

    def test_inside_the_window_a_patient_is_refused(self, patient_user, patients_appointment):
        with time_machine.travel(patients_appointment.start - timedelta(hours=3), tick=False):
            response = client_for(patient_user).post(
                f"{APPOINTMENTS}{patients_appointment.pk}/cancel/"
            )

        assert response.status_code == 409
        assert response.json()["code"] == "inside_cancellation_window"

    def test_inside_the_window_reception_records_a_late_cancellation(
        self, reception, patients_appointment
    ):
        with time_machine.travel(patients_appointment.start - timedelta(hours=3), tick=False):
            response = client_for(reception).post(
                f"{APPOINTMENTS}{patients_appointment.pk}/cancel/", {"reason": "Flu"}
            )

        assert response.status_code == 200
        assert response.json()["status"] == "late_cancelled"
        assert response.json()["cancellation_reason"] == "Flu"

    def test_staff_must_say_why(self, as_reception, patients_appointment):
        response = as_reception.post(f"{APPOINTMENTS}{patients_appointment.pk}/cancel/")

        assert response.status_code == 400
        assert response.json()["code"] == "reason_required"
        assert "reason" in response.json()["fields"]


class TestReschedule:
    def test_a_patient_moves_their_own(self, as_patient, patients_appointment):
        response = as_patient.post(
            f"{APPOINTMENTS}{patients_appointment.pk}/reschedule/",
            {"start": "2027-03-26T14:00:00+11:00"},
        )

        assert response.status_code == 200, response.json()
        assert response.json()["start"] == "2027-03-26T14:00:00+11:00"
        assert response.json()["id"] == patients_appointment.pk

    def test_a_refused_move_keeps_the_old_slot(
        self, as_patient, patients_appointment, other_patients_appointment
    ):
        # The other patient's practitioner is busy at 11:00; ask for them at 11:15.
        response = as_patient.post(
            f"{APPOINTMENTS}{patients_appointment.pk}/reschedule/",
            {
                "start": "2027-03-25T11:15:00+11:00",
                "practitioner": other_patients_appointment.practitioner_id,
            },
        )

        patients_appointment.refresh_from_db()
        assert response.status_code == 409
        assert response.json()["code"] == "slot_unavailable"
        assert patients_appointment.start == at(THURSDAY, 10)
        assert patients_appointment.status == Status.BOOKED

    def test_inside_the_window_a_patient_cannot_move(self, patient_user, patients_appointment):
        with time_machine.travel(patients_appointment.start - timedelta(hours=3), tick=False):
            response = client_for(patient_user).post(
                f"{APPOINTMENTS}{patients_appointment.pk}/reschedule/",
                {"start": "2027-03-30T14:00:00+11:00"},
            )

        assert response.status_code == 409
        assert response.json()["code"] == "inside_cancellation_window"


class TestIdempotency:
    def test_the_same_key_twice_books_once_and_answers_the_same(
        self, as_patient, assessment, myotherapist
    ):
        body = booking(assessment, myotherapist, "2027-03-25T10:00:00+11:00")

        first = as_patient.post(APPOINTMENTS, body, HTTP_IDEMPOTENCY_KEY="phone-retry-1")
        second = as_patient.post(APPOINTMENTS, body, HTTP_IDEMPOTENCY_KEY="phone-retry-1")

        assert first.status_code == second.status_code == 201
        assert first.json() == second.json()
        assert second["Idempotent-Replayed"] == "true"
        assert Appointment.objects.filter(status=Status.BOOKED).count() == 1

    def test_a_refusal_is_replayed_too(self, as_new_patient, myotherapy, myotherapist):
        body = booking(myotherapy, myotherapist, "2027-03-25T10:00:00+11:00")

        first = as_new_patient.post(APPOINTMENTS, body, HTTP_IDEMPOTENCY_KEY="k")
        second = as_new_patient.post(APPOINTMENTS, body, HTTP_IDEMPOTENCY_KEY="k")

        assert first.status_code == second.status_code == 409
        assert first.json() == second.json()

    def test_a_key_reused_for_another_request_is_refused(
        self, as_patient, assessment, myotherapist
    ):
        as_patient.post(
            APPOINTMENTS,
            booking(assessment, myotherapist, "2027-03-25T10:00:00+11:00"),
            HTTP_IDEMPOTENCY_KEY="k",
        )

        response = as_patient.post(
            APPOINTMENTS,
            booking(assessment, myotherapist, "2027-03-25T14:00:00+11:00"),
            HTTP_IDEMPOTENCY_KEY="k",
        )

        assert response.status_code == 422
        assert response.json()["code"] == "idempotency_key_reused"
        assert Appointment.objects.filter(status=Status.BOOKED).count() == 1

    def test_keys_belong_to_their_user(
        self, as_patient, as_other_patient, assessment, myotherapist, other_patient_user
    ):
        first = as_patient.post(
            APPOINTMENTS,
            booking(assessment, myotherapist, "2027-03-25T10:00:00+11:00"),
            HTTP_IDEMPOTENCY_KEY="k",
        )
        theirs = as_other_patient.post(
            APPOINTMENTS,
            booking(assessment, myotherapist, "2027-03-25T12:00:00+11:00"),
            HTTP_IDEMPOTENCY_KEY="k",
        )

        assert theirs.status_code == 201
        assert theirs.json()["id"] != first.json()["id"]


class TestListing:
    def test_filters(self, as_reception, patients_appointment, other_patients_appointment):
        def ids(**params):
            return {a["id"] for a in as_reception.get(APPOINTMENTS, params).json()["results"]}

        thursday = str(THURSDAY)
        assert ids(**{"from": thursday, "to": thursday}) >= {
            patients_appointment.pk,
            other_patients_appointment.pk,
        }
        assert ids(**{"from": str(THURSDAY + timedelta(days=1))}) == set()
        assert ids(practitioner=other_patients_appointment.practitioner_id) == {
            other_patients_appointment.pk
        }
        assert patients_appointment.pk not in ids(status="cancelled")

    def test_bad_filters_are_400(self, as_reception):
        response = as_reception.get(APPOINTMENTS, {"from": "soon", "status": "lost"})

        assert response.status_code == 400
        assert {"from", "status"} <= set(response.json()["fields"])

    def test_queries_do_not_grow_with_the_page(
        self, as_reception, myotherapist, second_myotherapist, assessment
    ):
        def book_many(count, day_offset):
            for n in range(count):
                book_appointment(
                    patient=PatientFactory(),
                    service=assessment,
                    practitioner=(myotherapist, second_myotherapist)[n % 2],
                    start=at(TODAY + timedelta(days=day_offset + n // 2), 9),
                )

        def queries_for_listing():
            with CaptureQueriesContext(connection) as captured:
                response = as_reception.get(APPOINTMENTS, {"page_size": 100})
            assert response.status_code == 200
            return len(captured), response.json()["count"]

        book_many(2, 1)
        few = queries_for_listing()
        book_many(30, 10)
        many = queries_for_listing()

        assert many[1] == few[1] + 30
        assert many[0] == few[0]


def test_booking_changes_are_throttled_but_reading_is_not(
    as_patient, assessment, myotherapist, monkeypatch
):

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"booking": "3/minute"})
    posts = [
        as_patient.post(
            APPOINTMENTS, booking(assessment, myotherapist, f"2027-03-2{5 + n}T10:00:00+11:00")
        )
        for n in range(4)
    ]

    assert [p.status_code for p in posts] == [201, 201, 201, 429]
    assert posts[-1].json()["code"] == "throttled" and posts[-1]["Retry-After"]
    assert as_patient.get(APPOINTMENTS).status_code == 200


class TestRedFlagMarker:
    """Red flags from intake show on appointments until a practitioner clears them:
    clinicians see which, reception only that there are some, patients nothing."""

    @pytest.fixture
    def flagged(self, patients_appointment, assessed_patient):
        return submit_intake(
            patient=assessed_patient,
            answers={
                "complaint": "Back pain",
                "pain_score": 8,
                "duration": "acute",
                "activity": "new_runner",
                "red_flags": ["saddle_numbness"],
            },
            entered_by=None,
        )

    def one(self, client, appointment):
        return client.get(f"{APPOINTMENTS}{appointment.pk}/").json()

    def test_each_role_sees_what_it_may(
        self, flagged, patients_appointment, as_practitioner, as_reception, as_patient
    ):
        practitioner = self.one(as_practitioner, patients_appointment)
        reception = self.one(as_reception, patients_appointment)
        patient = self.one(as_patient, patients_appointment)

        assert (practitioner["red_flag"], practitioner["red_flags"]) == (True, ["saddle_numbness"])
        assert (reception["red_flag"], reception["red_flags"]) == (True, None)
        assert (patient["red_flag"], patient["red_flags"]) == (None, None)

    def test_a_clearance_lifts_the_marker(
        self, flagged, patients_appointment, as_practitioner, myotherapist
    ):
        clear_red_flags(
            intake=flagged, cleared_by=myotherapist.user, cleared_on=TODAY, note="Seen by GP"
        )

        body = self.one(as_practitioner, patients_appointment)

        assert (body["red_flag"], body["red_flags"]) == (False, [])

    def test_the_list_reads_the_markers_in_one_query(
        self, flagged, as_reception, myotherapist, assessment
    ):
        def queries():
            with CaptureQueriesContext(connection) as captured:
                as_reception.get(APPOINTMENTS, {"page_size": 100})
            return len(captured)

        few = queries()
        for day in range(5, 12):
            patient = PatientFactory()
            submit_intake(
                patient=patient,
                answers={
                    "complaint": "x",
                    "pain_score": 5,
                    "duration": "acute",
                    "activity": "sedentary",
                    "red_flags": ["fever"],
                },
                entered_by=None,
            )
            book_appointment(
                patient=patient,
                service=assessment,
                practitioner=myotherapist,
                start=at(TODAY + timedelta(days=day), 9),
            )

        assert queries() == few


def test_the_lists_filters_do_not_hide_one_appointment_from_its_own_routes(
    as_patient, patients_appointment
):
    # `?status=` narrows the list; one appointment is found by its id whatever the query.
    url = f"{APPOINTMENTS}{patients_appointment.pk}/"

    shown = as_patient.get(url, {"status": "cancelled"})
    cancelled = as_patient.post(f"{url}cancel/?status=cancelled", {})

    assert shown.status_code == 200 and shown.json()["status"] == "booked"
    assert cancelled.status_code == 200, cancelled.json()
    assert cancelled.json()["status"] == "cancelled"
