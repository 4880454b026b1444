"""Assessment -> treatment -> cancel/move: the new-patient rule still holds afterwards,
through the API and the admin.

The clinic's clock is frozen at Monday 22 March 2027, 08:00 in Melbourne.
"""

from datetime import timedelta

import pytest
from django.urls import reverse

from appointments.models import Appointment, Status
from tests.factories import AppointmentFactory, UserFactory
from tests.fixtures.clinic import TODAY, at
from tests.treatments.multi_step_helpers import (
    APPOINTMENTS,
    FRIDAY,
    TUESDAY,
    WEDNESDAY,
    ClinicStaff,
    admin_client,
    error_code,
    jwt_client,
)


class TestTheAssessmentStaysFirst(ClinicStaff):
    @pytest.fixture
    def new_patient_user(self, new_patient):
        new_patient.user = UserFactory(email="nia@example.com")
        new_patient.save()
        return new_patient.user

    @pytest.fixture
    def booked(self, new_patient_user, assessment, myotherapy, myotherapist):
        """The new patient books their assessment on Wednesday and a treatment on Friday."""
        patient_api = jwt_client(new_patient_user)
        first = patient_api.post(
            APPOINTMENTS,
            {
                "service": assessment.pk,
                "practitioner": myotherapist.pk,
                "start": at(WEDNESDAY, 10).isoformat(),
            },
        )
        then = patient_api.post(
            APPOINTMENTS,
            {
                "service": myotherapy.pk,
                "practitioner": myotherapist.pk,
                "start": at(FRIDAY, 10).isoformat(),
            },
        )
        assert first.status_code == 201, first.json()
        assert then.status_code == 201, then.json()
        return Appointment.objects.get(pk=first.json()["id"]), Appointment.objects.get(
            pk=then.json()["id"]
        )

    def test_the_patient_cannot_cancel_or_move_the_assessment_after_the_treatment(
        self, new_patient_user, booked
    ):
        assessment, treatment = booked
        patient_api = jwt_client(new_patient_user)

        cancelled = patient_api.post(f"{APPOINTMENTS}{assessment.pk}/cancel/")
        moved = patient_api.post(
            f"{APPOINTMENTS}{assessment.pk}/reschedule/",
            {"start": at(FRIDAY + timedelta(days=1), 10).isoformat()},
        )

        for response in (cancelled, moved):
            assert (response.status_code, error_code(response)) == (
                409,
                "assessment_has_dependent_bookings",
            )
            assert f"#{treatment.pk}" in response.json()["detail"]
        assessment.refresh_from_db()
        assert (assessment.status, assessment.start) == (Status.BOOKED, at(WEDNESDAY, 10))

    def test_reception_cannot_either_through_the_api_or_the_admin(self, reception, booked):
        assessment, _treatment = booked
        desk_api = jwt_client(reception)
        desk = admin_client(reception)

        cancelled = desk_api.post(f"{APPOINTMENTS}{assessment.pk}/cancel/", {"reason": "Ill"})
        moved = desk_api.post(
            f"{APPOINTMENTS}{assessment.pk}/reschedule/",
            {"start": at(FRIDAY, 14).isoformat()},
        )
        admin_cancel = desk.post(
            reverse("admin:appointments_appointment_cancel", args=[assessment.pk]),
            {"reason": "Ill"},
        )

        assert (cancelled.status_code, error_code(cancelled)) == (
            409,
            "assessment_has_dependent_bookings",
        )
        assert (moved.status_code, error_code(moved)) == (409, "assessment_has_dependent_bookings")
        assert admin_cancel.status_code == 200
        assert "rely on this assessment" in str(admin_cancel.context["form"].non_field_errors())
        assessment.refresh_from_db()
        assert assessment.status == Status.BOOKED

    def test_what_reception_does_instead(self, reception, booked):
        assessment, treatment = booked
        desk_api = jwt_client(reception)

        # Moving the assessment earlier, or later but still before the treatment, is fine;
        earlier = desk_api.post(
            f"{APPOINTMENTS}{assessment.pk}/reschedule/", {"start": at(TUESDAY, 10).isoformat()}
        )
        later = desk_api.post(
            f"{APPOINTMENTS}{assessment.pk}/reschedule/",
            {"start": at(FRIDAY - timedelta(days=1), 10).isoformat()},
        )
        # the treatment is cancelled (or moved) first, then the assessment.
        treatment_off = desk_api.post(f"{APPOINTMENTS}{treatment.pk}/cancel/", {"reason": "Ill"})
        assessment_off = desk_api.post(f"{APPOINTMENTS}{assessment.pk}/cancel/", {"reason": "Ill"})

        assert earlier.status_code == 200, earlier.json()
        assert later.status_code == 200, later.json()
        assert treatment_off.status_code == 200, treatment_off.json()
        assert assessment_off.status_code == 200, assessment_off.json()

    def test_a_second_assessment_before_the_treatment_frees_the_first(
        self, reception, booked, assessment, second_myotherapist, new_patient
    ):
        first, _treatment = booked
        desk_api = jwt_client(reception)
        another = desk_api.post(
            APPOINTMENTS,
            {
                "patient": new_patient.pk,
                "service": assessment.pk,
                "practitioner": second_myotherapist.pk,
                "start": at(TUESDAY, 11).isoformat(),
            },
        )
        assert another.status_code == 201, another.json()

        cancelled = desk_api.post(f"{APPOINTMENTS}{first.pk}/cancel/", {"reason": "Duplicate"})

        assert cancelled.status_code == 200, cancelled.json()

    def test_a_missed_assessment_with_a_treatment_after_it(
        self,
        reception,
        new_patient,
        assessment,
        myotherapy,
        myotherapist,
        location,
        treatment_rooms,
    ):
        """A no-show takes the assessment away too: reception first moves or cancels the
        treatment (and books a new assessment), then records the no-show."""
        missed = AppointmentFactory(
            patient=new_patient,
            practitioner=myotherapist,
            service=assessment,
            location=location,
            room=treatment_rooms[0],
            start=at(TODAY, 6),
            status=Status.BOOKED,
        )
        treatment = AppointmentFactory(
            patient=new_patient,
            practitioner=myotherapist,
            service=myotherapy,
            location=location,
            room=treatment_rooms[0],
            start=at(FRIDAY, 10),
            status=Status.BOOKED,
        )
        desk = admin_client(reception)
        status_url = reverse("admin:appointments_appointment_status", args=[missed.pk, "no-show"])

        refused = desk.post(status_url, follow=True)
        missed.refresh_from_db()
        assert missed.status == Status.BOOKED
        assert any("rely on this assessment" in str(m) for m in refused.context["messages"])

        jwt_client(reception).post(f"{APPOINTMENTS}{treatment.pk}/cancel/", {"reason": "Rebook"})
        desk.post(status_url)
        missed.refresh_from_db()
        assert missed.status == Status.NO_SHOW

    def test_a_patient_who_was_seen_before_depends_on_no_assessment(
        self, as_reception_of, assessed_patient, assessment, myotherapy, myotherapist
    ):
        """The rule is for new patients: someone with a completed session may cancel an
        assessment whatever is booked after it."""
        desk_api = as_reception_of
        body = {"patient": assessed_patient.pk, "practitioner": myotherapist.pk}
        review = desk_api.post(
            APPOINTMENTS,
            {**body, "service": assessment.pk, "start": at(WEDNESDAY, 10).isoformat()},
        )
        desk_api.post(
            APPOINTMENTS, {**body, "service": myotherapy.pk, "start": at(FRIDAY, 10).isoformat()}
        )

        cancelled = desk_api.post(f"{APPOINTMENTS}{review.json()['id']}/cancel/", {"reason": "x"})

        assert cancelled.status_code == 200, cancelled.json()

    @pytest.fixture
    def as_reception_of(self, reception):
        return jwt_client(reception)
