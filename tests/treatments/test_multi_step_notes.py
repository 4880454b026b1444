"""Note -> cancel: only a session that has started carries a note, and a session with a note
is not cancelled, moved or marked a no-show afterwards, through the API and the admin.

The clinic's clock is frozen at Monday 22 March 2027, 08:00 in Melbourne.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from appointments.models import Appointment, Status
from tests.factories import AppointmentFactory
from tests.fixtures.clinic import TODAY, at
from tests.treatments.multi_step_helpers import (
    APPOINTMENTS,
    TUESDAY,
    ClinicStaff,
    admin_client,
    cookie_client,
    error_code,
    jwt_client,
)
from treatments.models import OutcomeMeasure, TreatmentNote

NOTES = "/api/v1/treatment-notes/"


class TestNotesOnlyForSessionsThatHappened(ClinicStaff):
    @pytest.fixture
    def next_week(self, assessed_patient, myotherapist, myotherapy, location, treatment_rooms):
        return AppointmentFactory(
            patient=assessed_patient,
            practitioner=myotherapist,
            service=myotherapy,
            location=location,
            room=treatment_rooms[0],
            start=at(TODAY + timedelta(days=7), 10),
            status=Status.BOOKED,
        )

    @pytest.fixture
    def this_morning(self, assessed_patient, myotherapist, myotherapy, location, treatment_rooms):
        """A session that began at 07:00 and nobody checked in: it is under way."""
        return AppointmentFactory(
            patient=assessed_patient,
            practitioner=myotherapist,
            service=myotherapy,
            location=location,
            room=treatment_rooms[1],
            start=at(TODAY, 7),
            status=Status.BOOKED,
        )

    def test_no_note_for_a_session_a_week_ahead_through_any_door(
        self, practitioner, next_week, myotherapist
    ):
        api = jwt_client(practitioner).post(
            NOTES, {"appointment": next_week.pk, "subjective": "x", "pain_score": 2}
        )
        cookie = cookie_client(practitioner).post(NOTES, {"appointment": next_week.pk})
        admin = admin_client(practitioner).post(
            reverse("admin:treatments_treatmentnote_add"), {"appointment": next_week.pk}
        )
        page = admin_client(practitioner).get(reverse("admin:treatments_treatmentnote_add"))

        assert (api.status_code, list(api.json()["fields"])) == (400, ["appointment"])
        assert (cookie.status_code, list(cookie.json()["fields"])) == (400, ["appointment"])
        assert admin.status_code == 200 and "appointment" in admin.context["form"].errors
        assert next_week not in page.context["form"].fields["appointment"].queryset
        assert not TreatmentNote.objects.exists() and not OutcomeMeasure.objects.exists()

    def test_a_draft_for_a_future_session_is_not_signed(self, practitioner, next_week):
        # A draft left from before the rule (written straight to the table).
        draft = TreatmentNote.objects.create(
            appointment=next_week,
            patient_id=next_week.patient_id,
            author=practitioner.practitioner,
            pain_score=2,
        )

        signed = jwt_client(practitioner).post(f"{NOTES}{draft.pk}/sign/")

        assert (signed.status_code, error_code(signed)) == (409, "not_a_session")
        draft.refresh_from_db()
        assert draft.signed_at is None and not OutcomeMeasure.objects.exists()

    def test_a_session_under_way_takes_a_note_and_then_is_not_cancelled(
        self, practitioner, reception, this_morning
    ):
        practitioner_api = jwt_client(practitioner)
        started = practitioner_api.post(
            NOTES, {"appointment": this_morning.pk, "subjective": "Sore", "pain_score": 6}
        )
        assert started.status_code == 201, started.json()
        signed = practitioner_api.post(f"{NOTES}{started.json()['id']}/sign/")
        assert signed.status_code == 200, signed.json()

        desk_api = jwt_client(reception)
        cancel = desk_api.post(
            f"{APPOINTMENTS}{this_morning.pk}/cancel/", {"reason": "Patient called"}
        )
        desk = admin_client(reception)
        admin_cancel = desk.post(
            reverse("admin:appointments_appointment_cancel", args=[this_morning.pk]),
            {"reason": "Patient called"},
        )
        no_show = desk.post(
            reverse("admin:appointments_appointment_status", args=[this_morning.pk, "no-show"]),
            follow=True,
        )

        assert (cancel.status_code, error_code(cancel)) == (409, "session_has_note")
        assert admin_cancel.status_code == 200
        assert "has a treatment note" in str(admin_cancel.context["form"].non_field_errors())
        assert any("has a treatment note" in str(m) for m in no_show.context["messages"])
        this_morning.refresh_from_db()
        assert this_morning.status == Status.BOOKED

    def test_a_draft_too_keeps_the_session_from_being_moved_or_cancelled(
        self, practitioner, reception, this_morning
    ):
        started = jwt_client(practitioner).post(NOTES, {"appointment": this_morning.pk})
        assert started.status_code == 201, started.json()

        desk_api = jwt_client(reception)
        moved = desk_api.post(
            f"{APPOINTMENTS}{this_morning.pk}/reschedule/", {"start": at(TUESDAY, 10).isoformat()}
        )
        cancelled = desk_api.post(f"{APPOINTMENTS}{this_morning.pk}/cancel/", {"reason": "x"})

        assert (moved.status_code, error_code(moved)) == (409, "session_has_note")
        assert (cancelled.status_code, error_code(cancelled)) == (409, "session_has_note")
        this_morning.refresh_from_db()
        assert (this_morning.status, this_morning.start) == (Status.BOOKED, at(TODAY, 7))

    @pytest.mark.parametrize("status", [Status.CANCELLED, Status.LATE_CANCELLED, Status.NO_SHOW])
    def test_no_note_for_a_session_that_did_not_happen(self, practitioner, this_morning, status):
        Appointment.objects.filter(pk=this_morning.pk).update(
            status=status, cancelled_at=None if status == Status.NO_SHOW else timezone.now()
        )

        response = jwt_client(practitioner).post(NOTES, {"appointment": this_morning.pk})

        assert (response.status_code, list(response.json()["fields"])) == (400, ["appointment"])

    def test_after_a_no_show_the_note_is_refused(self, practitioner, reception, this_morning):
        """The other order: reception marks the no-show first; the note is then refused."""
        desk = admin_client(reception)
        desk.post(
            reverse("admin:appointments_appointment_status", args=[this_morning.pk, "no-show"])
        )

        response = jwt_client(practitioner).post(NOTES, {"appointment": this_morning.pk})

        this_morning.refresh_from_db()
        assert this_morning.status == Status.NO_SHOW
        assert (response.status_code, list(response.json()["fields"])) == (400, ["appointment"])
