"""Clinical records in the admin: who sees which, the services behind every change, signed
notes read-only, refusals as messages (never a 500), the patient page's chart and red-flag
marker, and query counts that do not grow with the rows."""

from datetime import datetime, timedelta
from decimal import Decimal
from xml.etree import ElementTree

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from appointments.models import Status
from tests.factories import AppointmentFactory, PatientFactory
from tests.fixtures.admin_clients import admin_client, staff_member
from tests.fixtures.clinic import TODAY, at
from treatments.admin import notes as notes_admin
from treatments.api.progress import ProgressSerializer
from treatments.models import (
    ODI_SECTIONS,
    Addendum,
    ExerciseEntry,
    Intake,
    MeasureKind,
    OutcomeMeasure,
    Phase,
    PlanStatus,
    RedFlagClearance,
    TreatmentNote,
    TreatmentPlan,
)
from treatments.services import (
    add_addendum,
    clear_red_flags,
    create_plan,
    move_plan_to_phase,
    record_odi,
    record_pain,
    sign_note,
    start_note,
    submit_intake,
    update_draft,
)

pytestmark = pytest.mark.usefixtures("frozen_now")

SVG = "{http://www.w3.org/2000/svg}"
FINAL = "A signed note, its exercise log and its addenda are final: add an addendum."

INTAKE = {
    "complaint": "Lower back pain radiating to the left leg",
    "symptom_locations": ["lower_back", "leg_left"],
    "sciatica_symptoms": ["pins_and_needles", "sharp_pain_down_leg"],
    "pain_score": 7,
    "duration": "chronic",
    "activity": "new_runner",
    "goals": "Run a half marathon pain-free",
    "red_flags": [],
}
PHASES = [
    {"phase": Phase.ASSESS, "planned_sessions": 1, "sessions_per_week": 1},
    {"phase": Phase.RELEASE, "planned_sessions": 4, "sessions_per_week": 1},
    {"phase": Phase.STRENGTHEN, "planned_sessions": 8, "sessions_per_week": 2},
    {"phase": Phase.MAINTAIN, "planned_sessions": 6, "sessions_per_week": "0.2"},
]
SQUAT = {
    "exercise": "Back squat",
    "sets": 3,
    "reps": 8,
    "load_kg": Decimal("40"),
    "effort": 7,
    "guarded": False,
    "comment": "",
}


def url(model: str, view: str, *args) -> str:
    return reverse(f"admin:treatments_{model}_{view}", args=args)


def session_of(patient, practitioner, service, location, room, days_ago: int, hour: int = 10):
    return AppointmentFactory(
        patient=patient,
        practitioner=practitioner,
        service=service,
        location=location,
        room=room,
        start=at(TODAY - timedelta(days=days_ago), hour),
        status=Status.COMPLETED,
    )


def shown(response) -> list:
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def posted(response, **overrides) -> dict:
    """What the admin form on `response` posts as it stands (its inlines too), then the
    overrides: as a browser would send it back."""
    data: dict = {}

    def put(name, value):
        if value is None or value is False or value == "":
            return
        data[name] = "on" if value is True else value if isinstance(value, list) else str(value)

    form = response.context["adminform"].form
    for name in form.fields:
        put(name, form[name].value())
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name in formset.management_form.fields:
            put(formset.management_form.add_prefix(name), formset.management_form[name].value())
        for each in formset.forms:
            for name in each.fields:
                put(each.add_prefix(name), each[name].value())
    data.update(overrides)
    return {name: value for name, value in data.items() if value is not None}


@pytest.fixture
def room(treatment_rooms):
    return treatment_rooms[0]


@pytest.fixture
def session(assessed_patient, myotherapist, myotherapy, location, room):
    return session_of(assessed_patient, myotherapist, myotherapy, location, room, days_ago=1)


@pytest.fixture
def draft(session, myotherapist):
    note = start_note(appointment=session, author=myotherapist)
    return update_draft(
        note=note,
        author=myotherapist,
        changes={"subjective": "Sore after running.", "pain_score": 5, "plan": "Release x3"},
        exercises=[SQUAT],
    )


@pytest.fixture
def signed(draft, myotherapist):
    return sign_note(note=draft, author=myotherapist)


@pytest.fixture
def colleague_staff(second_myotherapist, assessed_patient, myotherapy, location, room):
    """Max Myo, another practitioner, who also treats the assessed patient."""
    session_of(assessed_patient, second_myotherapist, myotherapy, location, room, days_ago=3)
    user = staff_member(
        second_myotherapist.user.email, "Practitioner", user=second_myotherapist.user
    )
    return admin_client(user)


@pytest.fixture
def stranger(second_myotherapist, myotherapy, location, room):
    """A patient only Max Myo treats."""
    patient = PatientFactory(first_name="Sol", last_name="Stranger")
    session_of(patient, second_myotherapist, myotherapy, location, room, days_ago=2, hour=12)
    return patient


@pytest.fixture
def records_of_both(assessed_patient, stranger, myotherapist, second_myotherapist):
    """An intake, a plan and a score for the practitioner's patient and for the stranger."""
    for patient, practitioner in (
        (assessed_patient, myotherapist),
        (stranger, second_myotherapist),
    ):
        submit_intake(patient=patient, answers=INTAKE, entered_by=None)
        create_plan(patient=patient, practitioner=practitioner, goals="Run", phases=PHASES)
        record_pain(patient=patient, score=4, by=None)


class TestWhoSeesWhich:
    @pytest.mark.parametrize("model", ["intake", "treatmentplan", "outcomemeasure"])
    def test_a_practitioner_lists_only_the_patients_they_treat(
        self, practitioner_staff, records_of_both, assessed_patient, model
    ):
        listed = shown(practitioner_staff.get(url(model, "changelist")))

        assert [record.patient_id for record in listed] == [assessed_patient.pk]

    def test_and_only_their_patients_notes(self, practitioner_staff, signed, stranger):
        other_session = stranger.appointments.get()
        start_note(appointment=other_session, author=other_session.practitioner)

        listed = shown(practitioner_staff.get(url("treatmentnote", "changelist")))

        assert [note.pk for note in listed] == [signed.pk]

    def test_another_patients_record_is_not_found(
        self, practitioner_staff, records_of_both, stranger
    ):
        plan = TreatmentPlan.objects.get(patient=stranger)

        response = practitioner_staff.get(url("treatmentplan", "change", plan.pk))

        assert response.status_code == 302  # the admin's "not found": back to the index
        assert reverse("admin:index") in response["Location"]

    @pytest.mark.parametrize("model", ["intake", "treatmentplan", "outcomemeasure"])
    def test_the_patient_pages_links_list_one_patients_records(
        self, manager_staff, records_of_both, stranger, model
    ):
        listed = shown(manager_staff.get(url(model, "changelist"), {"patient": stranger.pk}))

        assert [record.patient_id for record in listed] == [stranger.pk]

    def test_and_their_notes(self, manager_staff, signed, stranger):
        listed = shown(
            manager_staff.get(url("treatmentnote", "changelist"), {"patient": stranger.pk})
        )
        assert listed == []
        patient = signed.appointment.patient
        listed = shown(
            manager_staff.get(url("treatmentnote", "changelist"), {"patient": patient.pk})
        )
        assert listed == [signed]

    @pytest.mark.parametrize("model", ["intake", "treatmentplan", "outcomemeasure"])
    def test_add_pages_take_the_patient_from_the_link(
        self, practitioner_staff, assessed_patient, model
    ):
        for value in (str(assessed_patient.pk), "not-a-number", "99999"):
            response = practitioner_staff.get(url(model, "add"), {"patient": value})
            assert response.status_code == 200, value

    @pytest.mark.parametrize("model", ["intake", "treatmentplan", "outcomemeasure"])
    def test_a_manager_reads_everyones(self, manager_staff, records_of_both, model):
        assert len(shown(manager_staff.get(url(model, "changelist")))) == 2

    def test_reception_opens_no_clinical_record(self, reception_staff, signed, records_of_both):
        plan = TreatmentPlan.objects.first()
        for address in (
            url("treatmentnote", "changelist"),
            url("treatmentnote", "change", signed.pk),
            url("treatmentplan", "change", plan.pk),
            url("intake", "clear", Intake.objects.first().pk),
            url("treatmentnote", "addendum", signed.pk),
        ):
            assert reception_staff.get(address).status_code == 403, address

    def test_a_practitioner_offers_only_their_patients_when_entering_records(
        self, practitioner_staff, records_of_both, stranger
    ):
        response = practitioner_staff.post(
            url("outcomemeasure", "add"),
            {
                "patient": stranger.pk,
                "kind": "pain",
                "recorded_at_0": TODAY.isoformat(),
                "recorded_at_1": "07:00",
                "pain": "3",
            },
        )

        assert response.status_code == 200
        assert "patient" in response.context["adminform"].form.errors
        assert OutcomeMeasure.objects.filter(patient=stranger).count() == 1


class TestIntakeAndRedFlags:
    @pytest.fixture
    def flagged(self, assessed_patient):
        return submit_intake(
            patient=assessed_patient,
            answers={**INTAKE, "red_flags": ["saddle_numbness", "fever"]},
            entered_by=None,
        )

    def test_the_answers_are_shown_read_only_with_the_red_flags_highlighted(
        self, practitioner_staff, flagged
    ):
        response = practitioner_staff.get(url("intake", "change", flagged.pk))

        html = response.content.decode()
        assert response.context["has_change_permission"] is False
        assert 'class="red-flags-open"' in html
        assert "Saddle numbness, Fever" in html
        assert "Pins and needles, Sharp or stabbing pain down a leg" in html
        assert "Record clearance" in html
        assert practitioner_staff.post(url("intake", "change", flagged.pk), {}).status_code == 403

    def test_a_practitioner_records_a_clearance(
        self, practitioner_staff, flagged, practitioner_staff_user
    ):
        page = url("intake", "clear", flagged.pk)
        assert practitioner_staff.get(page).status_code == 200

        response = practitioner_staff.post(
            page,
            {"clear": "1", "cleared_on": TODAY.isoformat(), "note": "Seen by GP: cleared."},
            follow=True,
        )

        clearance = RedFlagClearance.objects.get(intake=flagged)
        assert (clearance.cleared_by, clearance.cleared_on) == (practitioner_staff_user, TODAY)
        html = response.content.decode()
        assert 'class="red-flags-cleared"' in html
        assert "Record clearance" not in html

    def test_a_clearance_needs_its_note(self, practitioner_staff, flagged):
        response = practitioner_staff.post(
            url("intake", "clear", flagged.pk), {"clear": "1", "cleared_on": TODAY.isoformat()}
        )

        assert response.status_code == 200
        assert "note" in response.context["form"].errors
        assert not RedFlagClearance.objects.exists()

    def test_through_the_lists_action_too(self, practitioner_staff, flagged, assessed_patient):
        plain = submit_intake(patient=assessed_patient, answers=INTAKE, entered_by=None)
        selected = {"action": "clear_selected", "_selected_action": [flagged.pk, plain.pk]}

        confirm = practitioner_staff.post(url("intake", "changelist"), selected)
        assert confirm.status_code == 200
        assert "Record the clearance" in confirm.content.decode()
        done = practitioner_staff.post(
            url("intake", "changelist"),
            {**selected, "clear": "1", "cleared_on": TODAY.isoformat(), "note": "GP: fine."},
            follow=True,
        )

        assert done.status_code == 200
        assert RedFlagClearance.objects.filter(intake=flagged).exists()
        assert not RedFlagClearance.objects.filter(intake=plain).exists()
        # The flagged intake's clearance covers everything up to it: the later plain intake
        # has nothing left to clear.
        assert any("No open red flags up to this intake" in text for text in messages_of(done))

    def test_a_manager_reads_but_does_not_clear(self, manager_staff, flagged):
        response = manager_staff.get(url("intake", "change", flagged.pk))

        assert response.status_code == 200
        assert "Record clearance" not in response.content.decode()
        assert manager_staff.get(url("intake", "clear", flagged.pk)).status_code == 403

    def test_a_practitioner_enters_a_questionnaire(
        self, practitioner_staff, assessed_patient, practitioner_staff_user
    ):
        response = practitioner_staff.post(
            url("intake", "add"),
            {
                **INTAKE,
                "patient": assessed_patient.pk,
                "red_flags": ["recent_trauma"],
            },
        )

        assert response.status_code == 302
        intake = Intake.objects.get()
        assert intake.entered_by == practitioner_staff_user
        assert intake.red_flags == ["recent_trauma"]


class TestPlans:
    def start(self, client, patient, **overrides):
        data = {
            "patient": patient.pk,
            "goals": "Run pain-free",
            "maintenance_interval_weeks": "6",
            "assess_sessions": "1",
            "assess_per_week": "1",
            "release_sessions": "4",
            "release_per_week": "1",
            "strengthen_sessions": "8",
            "strengthen_per_week": "2",
            "maintain_sessions": "",
            "maintain_per_week": "",
        }
        return client.post(url("treatmentplan", "add"), {**data, **overrides})

    def test_a_practitioner_starts_a_plan(self, practitioner_staff, assessed_patient, myotherapist):
        assert practitioner_staff.get(url("treatmentplan", "add")).status_code == 200

        response = self.start(practitioner_staff, assessed_patient)

        plan = TreatmentPlan.objects.get()
        assert response.status_code == 302
        assert response["Location"] == url("treatmentplan", "change", plan.pk)
        assert (plan.practitioner, plan.current_phase) == (myotherapist, Phase.ASSESS)
        assert [p.phase for p in plan.phases.order_by("pk")] == ["assess", "release", "strengthen"]

    def test_a_second_active_plan_is_refused_on_the_form(
        self, practitioner_staff, assessed_patient
    ):
        self.start(practitioner_staff, assessed_patient)

        response = self.start(practitioner_staff, assessed_patient)

        assert response.status_code == 200
        assert "already has an active treatment plan" in str(response.context["form"].errors)
        assert TreatmentPlan.objects.count() == 1

    def test_a_manager_does_not_start_plans(self, manager_staff, assessed_patient):
        assert manager_staff.get(url("treatmentplan", "add")).status_code == 403

    @pytest.fixture
    def plan(self, assessed_patient, myotherapist):
        return create_plan(
            patient=assessed_patient, practitioner=myotherapist, goals="Run", phases=PHASES
        )

    def test_moving_to_a_phase_is_a_button(self, practitioner_staff, plan):
        page = practitioner_staff.get(url("treatmentplan", "change", plan.pk))
        assert "Move to Release (myotherapy)" in page.content.decode()

        response = practitioner_staff.post(url("treatmentplan", "move", plan.pk, "release"))

        assert response.status_code == 302
        plan.refresh_from_db()
        assert plan.current_phase == Phase.RELEASE
        assert plan.phases.get(phase=Phase.RELEASE).started_on == TODAY

    def test_and_a_list_action(self, manager_staff, plan):
        response = manager_staff.post(
            url("treatmentplan", "changelist"),
            {"action": "move_to_maintain", "_selected_action": [plan.pk]},
        )

        assert response.status_code == 302
        plan.refresh_from_db()
        assert plan.current_phase == Phase.MAINTAIN
        assert plan.maintenance_started_at is not None

    def test_goals_and_status_are_edited_through_the_service(self, practitioner_staff, plan):
        move_plan_to_phase(plan=plan, phase=Phase.RELEASE, by=None)
        page = practitioner_staff.get(url("treatmentplan", "change", plan.pk))

        response = practitioner_staff.post(
            url("treatmentplan", "change", plan.pk),
            posted(page, goals="Walk the dog pain-free", status="completed"),
        )

        assert response.status_code == 302
        plan.refresh_from_db()
        assert (plan.goals, plan.status) == ("Walk the dog pain-free", PlanStatus.COMPLETED)
        assert plan.phases.get(phase=Phase.RELEASE).ended_on == TODAY  # update_plan closed it

    def test_closing_a_plan_while_replanning_its_phase_still_ends_the_phase(
        self, practitioner_staff, plan
    ):
        move_plan_to_phase(plan=plan, phase=Phase.RELEASE, by=None)
        page = practitioner_staff.get(url("treatmentplan", "change", plan.pk))
        prefix = page.context["inline_admin_formsets"][0].formset.prefix
        release = [p.phase for p in plan.phases.order_by("pk")].index(Phase.RELEASE)

        response = practitioner_staff.post(
            url("treatmentplan", "change", plan.pk),
            posted(page, status="completed", **{f"{prefix}-{release}-planned_sessions": "6"}),
        )

        assert response.status_code == 302
        phase = plan.phases.get(phase=Phase.RELEASE)
        assert (phase.planned_sessions, phase.ended_on) == (6, TODAY)

    def test_a_refusal_of_the_services_is_a_message_not_an_error(self, practitioner_staff, plan):
        plan.status = PlanStatus.DISCONTINUED
        plan.save()
        page = practitioner_staff.get(url("treatmentplan", "change", plan.pk))

        response = practitioner_staff.post(
            url("treatmentplan", "change", plan.pk), posted(page, status="active"), follow=True
        )

        assert response.status_code == 200
        assert any("stays closed" in text for text in messages_of(response))
        plan.refresh_from_db()
        assert plan.status == PlanStatus.DISCONTINUED

    def test_phases_are_planned_once_each(self, practitioner_staff, assessed_patient, myotherapist):
        plan = create_plan(
            patient=assessed_patient, practitioner=myotherapist, goals="Run", phases=PHASES[:2]
        )
        page = practitioner_staff.get(url("treatmentplan", "change", plan.pk))
        prefix = page.context["inline_admin_formsets"][0].formset.prefix
        row = {
            f"{prefix}-TOTAL_FORMS": "3",
            f"{prefix}-2-phase": "release",
            f"{prefix}-2-planned_sessions": "3",
            f"{prefix}-2-sessions_per_week": "1",
        }

        response = practitioner_staff.post(
            url("treatmentplan", "change", plan.pk), posted(page, **row)
        )

        assert response.status_code == 200  # the form again, with the error
        assert "duplicate" in str(response.context["inline_admin_formsets"][0].formset.errors)
        response = practitioner_staff.post(
            url("treatmentplan", "change", plan.pk),
            posted(page, **{**row, f"{prefix}-2-phase": "strengthen"}),
        )
        assert response.status_code == 302
        assert plan.phases.count() == 3

    def test_moving_a_closed_plan_is_refused_with_a_message(self, practitioner_staff, plan):
        plan.status = PlanStatus.COMPLETED
        plan.save()

        response = practitioner_staff.post(
            url("treatmentplan", "move", plan.pk, "maintain"), follow=True
        )

        assert response.status_code == 200
        assert any("Only an active plan" in text for text in messages_of(response))


class TestNotes:
    def test_a_practitioner_starts_the_note_of_their_session(
        self, practitioner_staff, session, myotherapist
    ):
        page = practitioner_staff.get(url("treatmentnote", "add"))
        offered = list(page.context["form"].fields["appointment"].queryset)
        # Latest first: yesterday's session, then last month's assessment (no note yet either).
        assert offered[0] == session
        assert all(appointment.start <= timezone.now() for appointment in offered)

        response = practitioner_staff.post(url("treatmentnote", "add"), {"appointment": session.pk})

        note = TreatmentNote.objects.get()
        assert response["Location"] == url("treatmentnote", "change", note.pk)
        assert (note.appointment, note.author, note.signed_at) == (session, myotherapist, None)

    def test_the_author_edits_the_draft_and_its_exercise_log(self, practitioner_staff, draft):
        page = practitioner_staff.get(url("treatmentnote", "change", draft.pk))
        assert page.context["has_change_permission"] is True

        response = practitioner_staff.post(
            url("treatmentnote", "change", draft.pk),
            posted(
                page,
                subjective="Better today.",
                regions_treated=["piriformis", "gemelli"],
                **{
                    "exercises-0-load_kg": "45",
                    "exercises-1-exercise": "Sprint 20 m",
                    "exercises-1-sets": "6",
                    "exercises-1-reps": "1",
                    "exercises-1-effort": "8",
                    "exercises-1-guarded": "on",
                },
            ),
        )

        assert response.status_code == 302
        draft.refresh_from_db()
        assert draft.subjective == "Better today."
        assert draft.regions_treated == ["piriformis", "gemelli"]
        log = list(draft.exercises.values_list("exercise", "load_kg", "guarded"))
        assert log == [("Back squat", Decimal("45.0"), False), ("Sprint 20 m", None, True)]

    def test_save_and_sign(self, practitioner_staff, draft, assessed_patient):
        page = practitioner_staff.get(url("treatmentnote", "change", draft.pk))
        assert "Save and sign" in page.content.decode()

        response = practitioner_staff.post(
            url("treatmentnote", "change", draft.pk), posted(page, pain_score="3", _sign="1")
        )

        assert response.status_code == 302
        draft.refresh_from_db()
        assert draft.is_signed
        assert draft.pain_score == 3
        pain = OutcomeMeasure.objects.get(patient=assessed_patient, kind=MeasureKind.PAIN)
        assert pain.value == 3

    def test_another_practitioner_reads_a_draft_but_cannot_change_it(self, colleague_staff, draft):
        page = colleague_staff.get(url("treatmentnote", "change", draft.pk))

        assert page.status_code == 200
        assert page.context["has_change_permission"] is False
        assert "Save and sign" not in page.content.decode()
        response = colleague_staff.post(url("treatmentnote", "change", draft.pk), {"plan": "x"})
        assert response.status_code == 403
        draft.refresh_from_db()
        assert draft.plan == "Release x3"

    def test_a_signed_note_is_read_only_to_its_author_too(self, practitioner_staff, signed):
        response = practitioner_staff.get(url("treatmentnote", "change", signed.pk))

        html = response.content.decode()
        assert response.context["has_change_permission"] is False
        assert response.context["has_delete_permission"] is False
        assert 'name="subjective"' not in html
        assert 'name="exercises-0-exercise"' not in html
        assert "Save and sign" not in html
        assert "this note is final" in html
        for inline in response.context["inline_admin_formsets"]:
            assert not inline.has_add_permission
            assert not inline.has_change_permission
            assert not inline.has_delete_permission
        assert (
            practitioner_staff.post(
                url("treatmentnote", "change", signed.pk), {"subjective": "Rewritten"}
            ).status_code
            == 403
        )
        assert (
            practitioner_staff.post(
                url("treatmentnote", "delete", signed.pk), {"post": "yes"}
            ).status_code
            == 403
        )
        signed.refresh_from_db()
        assert signed.subjective == "Sore after running."
        assert ExerciseEntry.objects.filter(note=signed).count() == 1

    def test_an_addendum_is_added_with_its_own_form(self, practitioner_staff, signed):
        page = practitioner_staff.get(url("treatmentnote", "change", signed.pk))
        assert "Add an addendum" in page.content.decode()

        response = practitioner_staff.post(
            url("treatmentnote", "addendum", signed.pk),
            {"text": "Correction: the right leg."},
            follow=True,
        )

        assert response.status_code == 200
        assert list(signed.addenda.values_list("text", flat=True)) == ["Correction: the right leg."]
        assert "Correction: the right leg." in response.content.decode()  # the addenda inline
        signed.refresh_from_db()
        assert signed.subjective == "Sore after running."

    def test_an_empty_addendum_or_one_on_a_draft_is_a_message(self, practitioner_staff, draft):
        response = practitioner_staff.post(
            url("treatmentnote", "addendum", draft.pk), {"text": "x"}, follow=True
        )
        assert response.status_code == 403  # drafts are edited, not amended
        sign_note(note=draft, author=draft.author)

        response = practitioner_staff.post(
            url("treatmentnote", "addendum", draft.pk), {"text": "  "}, follow=True
        )

        assert response.status_code == 200
        assert "Write the addendum." in messages_of(response)
        assert not Addendum.objects.exists()

    def test_a_manager_reads_notes_and_adds_no_addenda(self, manager_staff, signed):
        page = manager_staff.get(url("treatmentnote", "change", signed.pk))

        assert page.status_code == 200
        assert "Add an addendum" not in page.content.decode()
        response = manager_staff.post(url("treatmentnote", "addendum", signed.pk), {"text": "x"})
        assert response.status_code == 403

    def test_signing_from_the_list_signs_only_ones_own_drafts(
        self, practitioner_staff, draft, stranger, second_myotherapist
    ):
        # Max's draft for a patient Mia also treats: she sees it, cannot sign it.
        theirs = session_of(
            draft.appointment.patient,
            second_myotherapist,
            draft.appointment.service,
            draft.appointment.location,
            draft.appointment.room,
            days_ago=5,
        )
        other = start_note(appointment=theirs, author=second_myotherapist)

        response = practitioner_staff.post(
            url("treatmentnote", "changelist"),
            {"action": "sign_selected", "_selected_action": [draft.pk, other.pk]},
            follow=True,
        )

        assert response.status_code == 200
        draft.refresh_from_db()
        other.refresh_from_db()
        assert draft.is_signed and not other.is_signed
        assert any("Only the note's author" in text for text in messages_of(response))

    def test_a_database_refusal_is_a_message_not_an_error(
        self, practitioner_staff, draft, monkeypatch
    ):
        """Signed elsewhere between the check and the save: PostgreSQL's trigger refuses
        the update, and the admin says so."""
        page = practitioner_staff.get(url("treatmentnote", "change", draft.pk))
        real_update = notes_admin.update_draft

        def signed_meanwhile(**kwargs):
            TreatmentNote.objects.filter(pk=draft.pk).update(signed_at=at(TODAY, 7))
            return real_update(**{**kwargs, "note": TreatmentNote(pk=draft.pk)})

        monkeypatch.setattr(notes_admin, "update_draft", signed_meanwhile)

        response = practitioner_staff.post(
            url("treatmentnote", "change", draft.pk), posted(page, plan="Changed"), follow=True
        )

        assert response.status_code == 200
        assert messages_of(response)
        draft.refresh_from_db()
        assert (draft.plan, draft.signed_at) == ("Release x3", None)  # all rolled back

    @pytest.mark.parametrize(
        ("signed_meanwhile", "write", "said"),
        [
            (True, lambda note: TreatmentNote.objects.filter(pk=note.pk).update(plan="x"), FINAL),
            (True, lambda note: ExerciseEntry.objects.filter(note=note).update(reps=1), FINAL),
            (
                True,
                lambda note: Addendum.objects.filter(
                    pk=Addendum.objects.create(note=note, author=note.author, text="x").pk
                ).update(text="y"),
                FINAL,
            ),
            # Not a final record's guard: a check constraint, on the draft.
            (
                False,
                lambda note: TreatmentNote.objects.filter(pk=note.pk).update(pain_score=11),
                "The database refused the change: it conflicts with the records already kept.",
            ),
        ],
        ids=["note", "exercise log", "addendum", "another constraint"],
    )
    def test_the_database_guard_that_refused_is_known_by_its_name(
        self, practitioner_staff, draft, monkeypatch, signed_meanwhile, write, said
    ):
        """Past the services' own checks, PostgreSQL refuses the write; the admin tells a
        final record's guard (`treatments.finality`) by the name it refuses under."""
        page = practitioner_staff.get(url("treatmentnote", "change", draft.pk))

        def written_past_the_checks(**kwargs):
            if signed_meanwhile:
                TreatmentNote.objects.filter(pk=draft.pk).update(signed_at=at(TODAY, 7))
            write(draft)

        monkeypatch.setattr(notes_admin, "update_draft", written_past_the_checks)

        response = practitioner_staff.post(
            url("treatmentnote", "change", draft.pk), posted(page, plan="Changed"), follow=True
        )

        assert response.status_code == 200
        assert said in messages_of(response)
        draft.refresh_from_db()
        assert (draft.plan, draft.signed_at) == ("Release x3", None)  # all rolled back


class TestOutcomeMeasures:
    def odi(self, client, patient, answers):
        data = {
            "patient": patient.pk,
            "kind": "odi",
            "recorded_at_0": TODAY.isoformat(),
            "recorded_at_1": "07:30",
        }
        for section, answer in zip(ODI_SECTIONS, answers, strict=True):
            data[f"odi_{section}"] = "" if answer is None else str(answer)
        return client.post(url("outcomemeasure", "add"), data)

    def test_an_odi_is_entered_as_ten_answers_and_scored_by_the_service(
        self, practitioner_staff, assessed_patient, practitioner_staff_user
    ):
        response = self.odi(practitioner_staff, assessed_patient, [2, 1, 3, 2, 1, 1, 0, None, 1, 3])

        assert response.status_code == 302
        measure = OutcomeMeasure.objects.get()
        assert (measure.kind, measure.value) == (MeasureKind.ODI, Decimal("31.1"))
        assert measure.odi_answers[7] is None
        assert measure.recorded_by == practitioner_staff_user
        page = practitioner_staff.get(url("outcomemeasure", "change", measure.pk))
        assert "31.1%" in page.content.decode()
        assert page.context["has_change_permission"] is False

    def test_too_many_unanswered_sections_is_a_form_error(
        self, practitioner_staff, assessed_patient
    ):
        response = self.odi(
            practitioner_staff, assessed_patient, [1, 1, 1, 1, 1, 1, 1, None, None, None]
        )

        assert response.status_code == 200
        assert "at least 8" in str(response.context["adminform"].form.non_field_errors())
        assert not OutcomeMeasure.objects.exists()

    def test_a_pain_score(self, practitioner_staff, assessed_patient):
        response = practitioner_staff.post(
            url("outcomemeasure", "add"),
            {
                "patient": assessed_patient.pk,
                "kind": "pain",
                "recorded_at_0": TODAY.isoformat(),
                "recorded_at_1": "07:30",
                "pain": "4",
            },
        )

        assert response.status_code == 302
        assert OutcomeMeasure.objects.get().value == 4


class TestThePatientsPage:
    """The chart and the red-flag marker on the patient's admin page."""

    @pytest.fixture
    def history(self, assessed_patient, myotherapist):
        """Five pain scores and two ODIs over ten weeks, through the phases."""
        plan = create_plan(
            patient=assessed_patient, practitioner=myotherapist, goals="Run", phases=PHASES
        )
        plan.phases.filter(phase=Phase.ASSESS).update(
            started_on=TODAY - timedelta(days=70), ended_on=TODAY - timedelta(days=63)
        )
        plan.phases.filter(phase=Phase.RELEASE).update(
            started_on=TODAY - timedelta(days=63), ended_on=TODAY - timedelta(days=30)
        )
        plan.phases.filter(phase=Phase.STRENGTHEN).update(started_on=TODAY - timedelta(days=30))
        for weeks, score in enumerate([7, 6, 6, 4, 3]):
            record_pain(
                patient=assessed_patient,
                score=score,
                by=None,
                recorded_at=at(TODAY - timedelta(days=70 - 14 * weeks), 10),
            )
        for days_ago, answers in ((70, [3] * 10), (14, [1] * 10)):
            record_odi(
                patient=assessed_patient,
                answers=answers,
                by=None,
                recorded_at=at(TODAY - timedelta(days=days_ago), 10),
            )
        return plan

    @staticmethod
    def chart_of(response) -> ElementTree.Element | None:
        html = response.content.decode()
        if 'class="progress-chart"' not in html:
            return None
        start = html.rindex("<svg", 0, html.index('class="progress-chart"'))
        return ElementTree.fromstring(html[start : html.index("</svg>", start) + len("</svg>")])

    @staticmethod
    def with_class(chart, name) -> list:
        return [e for e in chart.iter() if name in (e.get("class") or "").split()]

    def page(self, client, patient):
        response = client.get(reverse("admin:patients_patient_change", args=[patient.pk]))
        assert response.status_code == 200
        return response

    @pytest.mark.parametrize("who", ["practitioner_staff", "manager_staff"])
    def test_clinical_readers_see_the_chart(self, request, who, assessed_patient, history):
        client = request.getfixturevalue(who)

        chart = self.chart_of(self.page(client, assessed_patient))

        assert chart is not None and chart.tag == f"{SVG}svg"  # well-formed XML, in SVG
        assert len(self.with_class(chart, "pain-point")) == 5
        assert len(self.with_class(chart, "odi-point")) == 2
        phases = [e.get("class") for e in self.with_class(chart, "phase")]
        assert phases == ["phase phase-assess", "phase phase-release", "phase phase-strengthen"]
        titles = [e.findtext(f"{SVG}title") for e in self.with_class(chart, "odi-point")]
        assert titles == [
            f"ODI 60.0% on {TODAY - timedelta(days=70):%d %b %Y}",
            f"ODI 20.0% on {TODAY - timedelta(days=14):%d %b %Y}",
        ]

    @pytest.mark.parametrize("who", ["practitioner_staff", "manager_staff"])
    def test_the_chart_draws_the_series_the_api_answers(
        self, request, who, assessed_patient, history
    ):
        """One progress series (`treatments.progress.progress_of`) for both doors."""
        client = request.getfixturevalue(who)
        move_plan_to_phase(plan=history, phase=Phase.MAINTAIN, by=None)

        page = self.page(client, assessed_patient)
        api = client.get(f"/api/v1/patients/{assessed_patient.pk}/progress/").json()

        assert ProgressSerializer(page.context["clinical"]["progress"]).data == api
        chart = self.chart_of(page)
        for kind, label, unit in (("pain", "Pain", "/10"), ("odi", "ODI", "%")):
            titles = [e.findtext(f"{SVG}title") for e in self.with_class(chart, f"{kind}-point")]
            assert titles == [
                f"{label} {point['value']:{'g' if kind == 'pain' else '.1f'}}{unit} on "
                f"{datetime.fromisoformat(point['at']):%d %b %Y}"
                for point in api[kind]
            ]
        bands = [e.get("class") for e in self.with_class(chart, "phase")]
        assert bands == [f"phase phase-{phase['phase']}" for phase in api["phases"]]
        assert len(bands) == 4

    def test_reception_sees_no_chart(self, reception_staff, assessed_patient, history):
        response = self.page(reception_staff, assessed_patient)

        assert self.chart_of(response) is None
        assert 'id="patient-progress"' not in response.content.decode()
        assert response.context["clinical"] is None

    def test_no_scores_no_chart(self, practitioner_staff, assessed_patient):
        response = self.page(practitioner_staff, assessed_patient)

        assert self.chart_of(response) is None
        assert "No pain or ODI scores yet." in response.content.decode()

    def test_names_in_the_chart_are_escaped(self, practitioner_staff, assessed_patient, history):
        assessed_patient.first_name = "Ari <b>&"
        assessed_patient.save()

        chart = self.chart_of(self.page(practitioner_staff, assessed_patient))

        assert chart.findtext(f"{SVG}title") == "Progress of Ari <b>& Assessed"

    @pytest.fixture
    def red_flags(self, assessed_patient):
        return submit_intake(
            patient=assessed_patient,
            answers={**INTAKE, "red_flags": ["bladder_bowel_change", "fever"]},
            entered_by=None,
        )

    def test_reception_sees_the_marker_without_the_reasons(
        self, reception_staff, assessed_patient, red_flags
    ):
        html = self.page(reception_staff, assessed_patient).content.decode()

        assert 'class="red-flag-marker"' in html
        assert "see practitioner" in html
        assert "Bladder or bowel changes" not in html

    @pytest.mark.parametrize("who", ["practitioner_staff", "manager_staff"])
    def test_clinical_readers_see_the_reasons(self, request, who, assessed_patient, red_flags):
        html = self.page(request.getfixturevalue(who), assessed_patient).content.decode()

        assert 'class="red-flag-marker"' in html
        assert "Bladder or bowel changes, Fever" in html

    def test_a_cleared_intake_shows_no_marker(
        self, reception_staff, assessed_patient, red_flags, myotherapist
    ):
        clear_red_flags(
            intake=red_flags, cleared_by=myotherapist.user, cleared_on=TODAY, note="GP: fine"
        )

        html = self.page(reception_staff, assessed_patient).content.decode()

        assert 'class="red-flag-marker"' not in html


class TestQueryCounts:
    """Lists and pages read a fixed number of queries, however many rows they show."""

    @staticmethod
    def queries_of(client, address) -> int:
        client.get(address)  # warm caches (content types, sessions) first
        with CaptureQueriesContext(connection) as queries:
            response = client.get(address)
        assert response.status_code == 200
        return len(queries)

    @pytest.fixture
    def patients(self, myotherapist, myotherapy, location, room):
        made = []

        def add(count):
            for _ in range(count):
                n = len(made)
                patient = PatientFactory(last_name=f"Patient{n:03d}")
                session = session_of(
                    patient,
                    myotherapist,
                    myotherapy,
                    location,
                    room,
                    days_ago=1 + n // 6,
                    hour=9 + n % 6,
                )
                intake = submit_intake(
                    patient=patient, answers={**INTAKE, "red_flags": ["fever"]}, entered_by=None
                )
                if n % 2:
                    clear_red_flags(
                        intake=intake, cleared_by=myotherapist.user, cleared_on=TODAY, note="ok"
                    )
                plan = create_plan(
                    patient=patient, practitioner=myotherapist, goals="Run", phases=PHASES
                )
                move_plan_to_phase(plan=plan, phase=Phase.RELEASE, by=None)
                note = start_note(appointment=session, author=myotherapist)
                update_draft(
                    note=note, author=myotherapist, changes={"pain_score": 4}, exercises=[SQUAT]
                )
                note = sign_note(note=note, author=myotherapist)
                add_addendum(note=note, author=myotherapist, text="Seen again")
                record_odi(patient=patient, answers=[2] * 10, by=myotherapist.user)
                made.append(patient)

        return add

    @pytest.mark.parametrize(
        "model", ["intake", "treatmentplan", "treatmentnote", "outcomemeasure"]
    )
    @pytest.mark.parametrize("who", ["practitioner_staff", "manager_staff"])
    def test_the_lists(self, request, who, model, patients):
        client = request.getfixturevalue(who)
        patients(3)
        with_3 = self.queries_of(client, url(model, "changelist"))
        patients(27)
        with_30 = self.queries_of(client, url(model, "changelist"))

        assert with_30 == with_3

    def test_a_notes_page(self, practitioner_staff, draft, myotherapist):
        def add_exercises(count):
            rows = [SQUAT] * (draft.exercises.count() + count)
            update_draft(note=draft, author=myotherapist, changes={}, exercises=rows)

        add_exercises(2)
        with_3 = self.queries_of(practitioner_staff, url("treatmentnote", "change", draft.pk))
        add_exercises(27)
        with_30 = self.queries_of(practitioner_staff, url("treatmentnote", "change", draft.pk))

        assert with_30 == with_3

    def test_a_signed_notes_page_with_its_addenda(self, practitioner_staff, signed, myotherapist):
        def add_addenda(count):
            for n in range(count):
                add_addendum(note=signed, author=myotherapist, text=f"Addendum {n}")

        add_addenda(3)
        with_3 = self.queries_of(practitioner_staff, url("treatmentnote", "change", signed.pk))
        add_addenda(27)
        with_30 = self.queries_of(practitioner_staff, url("treatmentnote", "change", signed.pk))

        assert with_30 == with_3

    @pytest.mark.parametrize("who", ["practitioner_staff", "manager_staff", "reception_staff"])
    def test_the_patients_page_with_its_chart(self, request, who, assessed_patient, myotherapist):
        client = request.getfixturevalue(who)
        page = reverse("admin:patients_patient_change", args=[assessed_patient.pk])
        create_plan(patient=assessed_patient, practitioner=myotherapist, goals="Run", phases=PHASES)

        def add_scores(count):
            for n in range(count):
                when = at(TODAY - timedelta(days=1 + n), 9)
                record_pain(patient=assessed_patient, score=n % 11, by=None, recorded_at=when)
                record_odi(
                    patient=assessed_patient, answers=[n % 6] * 10, by=None, recorded_at=when
                )

        add_scores(3)
        with_3 = self.queries_of(client, page)
        add_scores(27)
        with_30 = self.queries_of(client, page)

        assert with_30 == with_3
