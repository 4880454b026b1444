"""Multi-step abuse of the clinical rules that span requests, played as HTTP sequences
through the API (JWT and the session cookie) and the admin, as the clinic's people do them:

- intake -> intake: a later intake never clears the red flags of an earlier one;
- note -> cancel: only a session that has started carries a note, and a session with a note
  is not cancelled, moved or marked a no-show afterwards;
- assessment -> treatment -> cancel/move: the new-patient rule still holds afterwards;
- a Manager (not a superuser) reads clinical records but writes none of them.

The clinic's clock is frozen at Monday 22 March 2027, 08:00 in Melbourne.
"""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.permissions import sync_role_group
from appointments.models import Appointment, Status
from tests.factories import AppointmentFactory, UserFactory
from tests.fixtures.clinic import TODAY, at
from treatments.models import OutcomeMeasure, RedFlag, RedFlagClearance, TreatmentNote
from treatments.services import submit_intake

APPOINTMENTS = "/api/v1/appointments/"
INTAKES = "/api/v1/intakes/"
MY_INTAKE = "/api/v1/patients/me/intake/"
NOTES = "/api/v1/treatment-notes/"
OUTCOMES = "/api/v1/outcome-measures/"
TUESDAY, WEDNESDAY, FRIDAY = (TODAY + timedelta(days=n) for n in (1, 2, 4))
ANSWERS = {
    "complaint": "Lower back pain down the left leg",
    "symptom_locations": ["lower_back", "leg_left"],
    "sciatica_symptoms": ["numbness_burning_tingling"],
    "pain_score": 8,
    "duration": "acute",
    "activity": "seasoned_runner",
    "goals": "Walk without pain",
}
CAUDA_EQUINA = ["bladder_bowel_change", "saddle_numbness"]


@pytest.fixture(autouse=True)
def _clock_frozen(frozen_now):
    yield


def member_of(group: str, user=None, **fields):
    """A login in a role group that holds exactly the role's permissions, with `is_staff`."""
    user = user or UserFactory(is_staff=True, **fields)
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    user.groups.add(sync_role_group(group))
    return user


def jwt_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


def cookie_client(user) -> APIClient:
    """Signed in with the session cookie, as after an admin login (no token)."""
    client = APIClient()
    client.force_login(user)
    return client


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def practitioner(myotherapist):
    return member_of("Practitioner", user=myotherapist.user)


@pytest.fixture
def reception(db):
    return member_of("Reception", email="desk@clinic.example")


@pytest.fixture
def manager(db):
    """A Manager-group member who is not a superuser."""
    user = member_of("Manager", email="boss@clinic.example")
    assert not user.is_superuser
    return user


def flags_named(labels: list[str]) -> list[str]:
    """The red flags whose labels a page shows, in the order of `RedFlag`."""
    return [flag for flag, label in RedFlag.choices if label in labels]


def error_code(response) -> str | None:
    return response.json().get("code")


# --- intake -> intake: a later intake never clears red flags ---------------------------------


class TestALaterIntakeNeverClearsRedFlags:
    @pytest.fixture
    def patient_user(self, assessed_patient):
        assessed_patient.user = UserFactory(email="ari@example.com")
        assessed_patient.save()
        return assessed_patient.user

    @pytest.fixture
    def visit(self, assessed_patient, myotherapist, myotherapy, location, treatment_rooms):
        """Tomorrow's session with the practitioner who treats the patient."""
        return AppointmentFactory(
            patient=assessed_patient,
            practitioner=myotherapist,
            service=myotherapy,
            location=location,
            room=treatment_rooms[0],
            start=at(TUESDAY, 10),
            status=Status.BOOKED,
        )

    def shown_everywhere(self, practitioner, visit, location, myotherapy) -> dict:
        """What each place that shows red flags shows the treating practitioner."""
        patient = visit.patient
        api = jwt_client(practitioner).get(f"{APPOINTMENTS}{visit.pk}/").json()
        cookie = cookie_client(practitioner).get(f"{APPOINTMENTS}{visit.pk}/").json()
        desk = admin_client(practitioner)
        day = desk.get(
            reverse("admin:appointments_appointment_day"),
            {"date": TUESDAY.isoformat(), "location": location.pk, "service": myotherapy.pk},
        ).content.decode()
        page = desk.get(reverse("admin:patients_patient_change", args=[patient.pk]))
        intakes = jwt_client(practitioner).get(INTAKES, {"patient": patient.pk}).json()
        marker = re.search(r"red flags: ([^<]*)</span>", day)
        reasons = page.context["red_flags"]["reasons"] if page.context["red_flags"] else []
        return {
            "api": api["red_flags"] if api["red_flag"] else [],
            "cookie": cookie["red_flags"] if cookie["red_flag"] else [],
            "day view": flags_named(marker.group(1).split(", ") if marker else []),
            "patient page": flags_named(reasons),
            "open intakes": sorted(
                flag
                for intake in intakes["results"]
                if intake["red_flags_open"]
                for flag in intake["red_flags"]
            ),
        }

    def test_flags_stay_until_a_clearance_and_come_back_only_with_a_new_intake(
        self, patient_user, practitioner, visit, location, myotherapy
    ):
        patient_api = jwt_client(patient_user)
        # Given a patient who reports saddle numbness and bladder/bowel change,
        first = patient_api.post(MY_INTAKE, {**ANSWERS, "red_flags": CAUDA_EQUINA})
        assert first.status_code == 201, first.json()
        both = {place: CAUDA_EQUINA for place in ("api", "cookie", "day view", "patient page")}
        assert self.shown_everywhere(practitioner, visit, location, myotherapy) == {
            **both,
            "open intakes": CAUDA_EQUINA,
        }

        # when they submit a second intake without red flags,
        second = patient_api.post(MY_INTAKE, {**ANSWERS, "pain_score": 3})
        assert second.status_code == 201, second.json()

        # then both flags are still shown everywhere: no clearance was recorded.
        assert self.shown_everywhere(practitioner, visit, location, myotherapy) == {
            **both,
            "open intakes": CAUDA_EQUINA,
        }
        assert not RedFlagClearance.objects.exists()

        # A clearance by the treating practitioner removes them,
        cleared = jwt_client(practitioner).post(
            f"{INTAKES}{first.json()['id']}/clearance/",
            {"cleared_on": TODAY.isoformat(), "note": "GP saw her: no cauda equina."},
        )
        assert cleared.status_code == 201, cleared.json()
        nothing = self.shown_everywhere(practitioner, visit, location, myotherapy)
        assert nothing == {place: [] for place in nothing}

        # and a third intake with a new flag shows only the new one.
        third = patient_api.post(MY_INTAKE, {**ANSWERS, "red_flags": ["fever"]})
        assert third.status_code == 201, third.json()
        shown = self.shown_everywhere(practitioner, visit, location, myotherapy)
        assert shown == {place: ["fever"] for place in nothing}

    def test_a_clearance_on_a_later_intake_covers_the_earlier_ones(
        self, patient_user, practitioner, visit, location, myotherapy
    ):
        patient_api = jwt_client(patient_user)
        patient_api.post(MY_INTAKE, {**ANSWERS, "red_flags": ["saddle_numbness"]})
        later = patient_api.post(MY_INTAKE, {**ANSWERS, "red_flags": ["fever"]}).json()

        cleared = jwt_client(practitioner).post(
            f"{INTAKES}{later['id']}/clearance/",
            {"cleared_on": TODAY.isoformat(), "note": "GP: both dealt with."},
        )

        assert cleared.status_code == 201, cleared.json()
        shown = self.shown_everywhere(practitioner, visit, location, myotherapy)
        assert shown == {place: [] for place in shown}

    def test_an_earlier_clearance_leaves_a_later_intakes_flags_open(
        self, patient_user, practitioner, visit, location, myotherapy
    ):
        patient_api = jwt_client(patient_user)
        earlier = patient_api.post(MY_INTAKE, {**ANSWERS, "red_flags": ["saddle_numbness"]})
        patient_api.post(MY_INTAKE, {**ANSWERS, "red_flags": ["fever"]})

        jwt_client(practitioner).post(
            f"{INTAKES}{earlier.json()['id']}/clearance/",
            {"cleared_on": TODAY.isoformat(), "note": "GP: saddle numbness resolved."},
        )

        shown = self.shown_everywhere(practitioner, visit, location, myotherapy)
        assert shown == {place: ["fever"] for place in shown}


# --- note -> cancel: notes only for sessions that happened -----------------------------------


class TestNotesOnlyForSessionsThatHappened:
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


# --- assessment -> treatment -> cancel/move --------------------------------------------------


class TestTheAssessmentStaysFirst:
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


# --- a Manager writes no clinical records ----------------------------------------------------


class TestAManagerReadsButDoesNotWriteClinicalRecords:
    @pytest.fixture
    def flagged(self, assessed_patient):
        return submit_intake(
            patient=assessed_patient,
            answers={**ANSWERS, "red_flags": CAUDA_EQUINA},
            entered_by=None,
        )

    @pytest.mark.parametrize("door", [jwt_client, cookie_client], ids=["jwt", "session cookie"])
    def test_a_manager_clears_no_red_flags_and_enters_no_records(
        self, door, manager, flagged, assessed_patient
    ):
        api = door(manager)

        reads = api.get(f"{INTAKES}{flagged.pk}/")
        clearance = api.post(
            f"{INTAKES}{flagged.pk}/clearance/",
            {"cleared_on": TODAY.isoformat(), "note": "Looks fine to me."},
        )
        intake = api.post(INTAKES, {**ANSWERS, "patient": assessed_patient.pk})
        pain = api.post(OUTCOMES, {"patient": assessed_patient.pk, "kind": "pain", "value": 2})
        odi = api.post(
            OUTCOMES,
            {"patient": assessed_patient.pk, "kind": "odi", "odi_answers": [1] * 10},
            format="json",
        )

        assert reads.status_code == 200 and reads.json()["red_flags_open"] is True
        for refused in (clearance, intake, pain, odi):
            assert refused.status_code == 403, refused.json()
        assert not RedFlagClearance.objects.exists()
        assert not OutcomeMeasure.objects.exists()
        assert flagged.patient.intakes.count() == 1

    def test_nor_in_the_admin(self, manager, flagged):
        desk = admin_client(manager)

        page = desk.get(reverse("admin:treatments_intake_change", args=[flagged.pk]))
        clear = desk.post(
            reverse("admin:treatments_intake_clear", args=[flagged.pk]),
            {"clear": "1", "cleared_on": TODAY.isoformat(), "note": "fine"},
        )

        assert page.status_code == 200 and page.context["can_clear"] is False
        assert clear.status_code == 403
        assert not RedFlagClearance.objects.exists()

    def test_a_manager_who_is_also_a_practitioner_clears_only_their_own_patients(
        self, myotherapist, second_myotherapist, flagged
    ):
        """Managers see every patient; clearing still needs the care relationship."""
        boss = member_of("Practitioner", user=second_myotherapist.user)
        boss.groups.add(sync_role_group("Manager"))

        response = jwt_client(boss).post(
            f"{INTAKES}{flagged.pk}/clearance/",
            {"cleared_on": TODAY.isoformat(), "note": "fine"},
        )

        assert (response.status_code, error_code(response)) == (403, "not_treating_practitioner")
        assert not RedFlagClearance.objects.exists()

    def test_a_superuser_who_treats_nobody_clears_nothing(self, flagged):
        root = UserFactory(email="root@clinic.example", is_staff=True, is_superuser=True)

        response = jwt_client(root).post(
            f"{INTAKES}{flagged.pk}/clearance/",
            {"cleared_on": TODAY.isoformat(), "note": "fine"},
        )
        admin = admin_client(root).post(
            reverse("admin:treatments_intake_clear", args=[flagged.pk]),
            {"clear": "1", "cleared_on": TODAY.isoformat(), "note": "fine"},
        )

        assert (response.status_code, error_code(response)) == (403, "not_treating_practitioner")
        assert admin.status_code == 403
        assert not RedFlagClearance.objects.exists()
