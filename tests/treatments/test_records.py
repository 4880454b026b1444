from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from appointments.models import Status
from kernel.errors import DomainError
from tests.factories import AppointmentFactory, PractitionerFactory
from tests.fixtures.clinic import TODAY, at
from treatments.finality import ADDENDUM_IS_FINAL, SIGNED_NOTE_IS_FINAL
from treatments.models import (
    Addendum,
    ExerciseEntry,
    MeasureKind,
    OutcomeMeasure,
    Phase,
    PlanStatus,
    RedFlag,
    TreatmentNote,
    odi_percent,
)
from treatments.services import (
    add_addendum,
    clear_red_flags,
    create_plan,
    move_plan_to_phase,
    open_red_flags,
    record_odi,
    record_pain,
    sign_note,
    start_note,
    submit_intake,
    update_draft,
)


@pytest.fixture(autouse=True)
def _clock_frozen(frozen_now):
    yield


@pytest.fixture
def session(assessed_patient, myotherapist, myotherapy, location, treatment_rooms):
    return AppointmentFactory(
        patient=assessed_patient,
        practitioner=myotherapist,
        service=myotherapy,
        location=location,
        room=treatment_rooms[0],
        start=at(TODAY - timedelta(days=1), 10),
        status=Status.COMPLETED,
    )


@pytest.fixture
def draft(session, myotherapist):
    note = start_note(appointment=session, author=myotherapist)
    return update_draft(
        note=note,
        author=myotherapist,
        changes={
            "subjective": "Sharp pain down the left leg after running.",
            "pain_score": 6,
            "pain_locations": ["buttock_left", "leg_left"],
            "posture_findings": ["anterior_pelvic_tilt", "tight_hip_flexors"],
            "regions_treated": ["piriformis", "gemelli"],
            "assessment": "Piriformis involvement.",
            "plan": "Release x3, then NMPT.",
        },
        exercises=[
            {
                "exercise": "Goblet squat",
                "sets": 3,
                "reps": 10,
                "load_kg": Decimal("16"),
                "effort": 6,
                "guarded": False,
                "comment": "",
            },
            {
                "exercise": "Romanian deadlift",
                "sets": 3,
                "reps": 8,
                "load_kg": Decimal("30"),
                "effort": 7,
                "guarded": True,
                "comment": "Stopped short of full range",
            },
        ],
    )


@pytest.fixture
def signed(draft, myotherapist):
    return sign_note(note=draft, author=myotherapist)


class TestSigning:
    def test_signing_locks_the_note_and_records_its_pain_score(self, signed, assessed_patient):
        assert signed.is_signed
        pain = OutcomeMeasure.objects.get(patient=assessed_patient, kind=MeasureKind.PAIN)
        assert pain.value == Decimal("6.0")
        assert pain.appointment_id == signed.appointment_id

    def test_only_the_author_edits_or_signs_a_draft(self, draft):
        colleague = PractitionerFactory()

        for action in (
            lambda: update_draft(note=draft, author=colleague, changes={"plan": "x"}),
            lambda: sign_note(note=draft, author=colleague),
        ):
            with pytest.raises(DomainError) as refused:
                action()
            assert refused.value.code == "not_the_author"

    def test_a_signed_note_refuses_edits_through_the_service(self, signed, myotherapist):
        with pytest.raises(DomainError) as refused:
            update_draft(note=signed, author=myotherapist, changes={"plan": "Changed"})

        assert refused.value.code == "note_signed"

    def test_the_orm_cannot_change_or_delete_a_signed_note(self, signed):
        signed.plan = "Rewritten history"
        with pytest.raises(IntegrityError, match="signed"), transaction.atomic():
            signed.save()
        with pytest.raises(IntegrityError, match="signed"), transaction.atomic():
            TreatmentNote.objects.filter(pk=signed.pk).delete()
        with pytest.raises(IntegrityError, match="signed"), transaction.atomic():
            TreatmentNote.objects.filter(pk=signed.pk).update(signed_at=None)

        signed.refresh_from_db()
        assert signed.plan == "Release x3, then NMPT."

    @pytest.mark.parametrize(
        "sql",
        [
            "UPDATE treatments_treatmentnote SET plan = 'edited' WHERE id = %s",
            "DELETE FROM treatments_treatmentnote WHERE id = %s",
            "UPDATE treatments_exerciseentry SET load_kg = 200 WHERE note_id = %s",
            "DELETE FROM treatments_exerciseentry WHERE note_id = %s",
            "INSERT INTO treatments_exerciseentry (note_id, position, exercise, sets, reps, "
            "effort, guarded, comment) VALUES (%s, 9, 'Extra', 1, 1, 1, false, '')",
        ],
    )
    def test_raw_sql_cannot_change_a_signed_note_or_its_exercise_log(self, signed, sql):
        with (
            pytest.raises(IntegrityError, match="signed"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [signed.pk])

        assert ExerciseEntry.objects.filter(note=signed).count() == 2

    @pytest.mark.parametrize(
        ("sql", "refused_as"),
        [
            ("UPDATE treatments_treatmentnote SET plan = 'x' WHERE id = %s", SIGNED_NOTE_IS_FINAL),
            ("DELETE FROM treatments_exerciseentry WHERE note_id = %s", SIGNED_NOTE_IS_FINAL),
            ("UPDATE treatments_addendum SET text = 'x' WHERE note_id = %s", ADDENDUM_IS_FINAL),
        ],
    )
    def test_a_refusal_carries_the_name_the_admin_and_api_map(
        self, signed, myotherapist, sql, refused_as
    ):
        add_addendum(note=signed, author=myotherapist, text="Seen by GP.")

        with (
            pytest.raises(IntegrityError) as refused,
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [signed.pk])

        assert refused.value.__cause__.diag.constraint_name == refused_as

    def test_a_draft_may_still_change(self, draft, myotherapist):
        update_draft(note=draft, author=myotherapist, changes={"plan": "Release x2"}, exercises=[])

        draft.refresh_from_db()
        assert draft.plan == "Release x2"
        assert not draft.exercises.exists()


class TestAddenda:
    def test_an_addendum_amends_a_signed_note_and_keeps_the_original(self, signed, myotherapist):
        addendum = add_addendum(
            note=signed, author=myotherapist, text="Correction: right leg, not left."
        )

        signed.refresh_from_db()
        assert signed.subjective == "Sharp pain down the left leg after running."
        assert list(signed.addenda.all()) == [addendum]

    def test_drafts_take_no_addenda(self, draft, myotherapist):
        with pytest.raises(DomainError) as refused:
            add_addendum(note=draft, author=myotherapist, text="x")

        assert refused.value.code == "note_not_signed"

    def test_addenda_are_final_too(self, signed, myotherapist):
        addendum = add_addendum(note=signed, author=myotherapist, text="Seen by GP.")

        with pytest.raises(IntegrityError, match="final"), transaction.atomic():
            Addendum.objects.filter(pk=addendum.pk).update(text="changed")
        with pytest.raises(IntegrityError, match="final"), transaction.atomic():
            Addendum.objects.filter(pk=addendum.pk).delete()


class TestOswestry:
    """Worked examples: each section scores 0-5; unanswered sections are left out of the
    maximum, so the index is total / (5 x answered) x 100."""

    @pytest.mark.parametrize(
        ("answers", "percent"),
        [
            ([0] * 10, Decimal("0.0")),
            ([5] * 10, Decimal("100.0")),
            ([2, 1, 3, 2, 1, 1, 0, 2, 1, 3], Decimal("32.0")),  # 16 / 50
            ([2, 1, 3, 2, 1, 1, 0, None, 1, 3], Decimal("31.1")),  # 14 / 45
            ([3, 2, 4, 2, 3, 2, 1, None, None, 2], Decimal("47.5")),  # 19 / 40
        ],
        ids=["all zero", "all max", "all answered", "one unanswered", "two unanswered"],
    )
    def test_scoring(self, answers, percent):
        assert odi_percent(answers) == percent

    @pytest.mark.parametrize(
        "answers",
        [[1, 1, 1, 1, 1, 1, 1, None, None, None], [6] + [0] * 9, [0] * 9],
        ids=["three unanswered", "out of range", "nine sections"],
    )
    def test_unscorable_questionnaires_are_refused(self, answers, assessed_patient):
        with pytest.raises(DomainError) as refused:
            record_odi(patient=assessed_patient, answers=answers, by=None)

        assert refused.value.code == "invalid_measure"
        assert "odi_answers" in refused.value.fields
        assert not OutcomeMeasure.objects.exists()

    def test_recorded_with_its_answers(self, assessed_patient):
        measure = record_odi(
            patient=assessed_patient, answers=[2, 1, 3, 2, 1, 1, 0, None, 1, 3], by=None
        )

        measure.refresh_from_db()
        assert measure.value == Decimal("31.1")
        assert measure.odi_answers[7] is None

    def test_pain_scores_run_from_zero_to_ten(self, assessed_patient):
        with pytest.raises(DomainError):
            record_pain(patient=assessed_patient, score=11, by=None)
        assert record_pain(patient=assessed_patient, score=0, by=None).value == 0


INTAKE = {
    "complaint": "Lower back pain radiating to the left leg",
    "symptom_locations": ["lower_back", "leg_left"],
    "sciatica_symptoms": ["pins_and_needles", "sharp_pain_down_leg"],
    "pain_score": 7,
    "duration": "chronic",
    "activity": "new_runner",
    "goals": "Run a half marathon pain-free",
}


class TestRedFlags:
    def test_red_flags_mark_the_patient_until_cleared(self, assessed_patient, myotherapist):
        intake = submit_intake(
            patient=assessed_patient,
            answers={**INTAKE, "red_flags": [RedFlag.SADDLE_NUMBNESS, RedFlag.FEVER]},
            entered_by=None,
        )

        assert open_red_flags(assessed_patient) == ["saddle_numbness", "fever"]
        clear_red_flags(
            intake=intake,
            cleared_by=myotherapist.user,
            cleared_on=TODAY,
            note="Seen by GP; cleared for manual therapy.",
        )
        assert open_red_flags(assessed_patient) == []

    def test_a_newer_intake_with_red_flags_marks_again(self, assessed_patient, myotherapist):
        first = submit_intake(
            patient=assessed_patient, answers={**INTAKE, "red_flags": ["fever"]}, entered_by=None
        )
        clear_red_flags(intake=first, cleared_by=myotherapist.user, cleared_on=TODAY, note="GP ok")

        submit_intake(
            patient=assessed_patient,
            answers={**INTAKE, "red_flags": ["bladder_bowel_change"]},
            entered_by=None,
        )

        assert open_red_flags(assessed_patient) == ["bladder_bowel_change"]

    def test_no_red_flags_nothing_to_clear(self, assessed_patient, myotherapist):
        intake = submit_intake(
            patient=assessed_patient, answers={**INTAKE, "red_flags": []}, entered_by=None
        )

        assert open_red_flags(assessed_patient) == []
        with pytest.raises(DomainError) as refused:
            clear_red_flags(intake=intake, cleared_by=myotherapist.user, cleared_on=TODAY, note="x")
        assert refused.value.code == "red_flags_clear"


class TestPlans:
    def test_a_plan_moves_along_the_pathway(self, assessed_patient, myotherapist):
        plan = create_plan(
            patient=assessed_patient,
            practitioner=myotherapist,
            goals="Pain-free running",
            phases=[
                {"phase": Phase.ASSESS, "planned_sessions": 1, "sessions_per_week": 1},
                {"phase": Phase.RELEASE, "planned_sessions": 4, "sessions_per_week": 1},
                {"phase": Phase.STRENGTHEN, "planned_sessions": 8, "sessions_per_week": 2},
                {"phase": Phase.MAINTAIN, "planned_sessions": 6, "sessions_per_week": "0.2"},
            ],
        )

        assert plan.phases.get(phase=Phase.ASSESS).started_on == TODAY
        move_plan_to_phase(plan=plan, phase=Phase.RELEASE, by=None)
        plan = move_plan_to_phase(plan=plan, phase=Phase.MAINTAIN, by=None)

        assert plan.current_phase == Phase.MAINTAIN
        assert plan.maintenance_started_at is not None
        phases = {p.phase: p for p in plan.phases.all()}
        assert phases[Phase.RELEASE].started_on == TODAY
        assert phases[Phase.RELEASE].ended_on == TODAY

    def test_one_active_plan_per_patient(self, assessed_patient, myotherapist):
        create_plan(patient=assessed_patient, practitioner=myotherapist, goals="a", phases=[])

        with pytest.raises(DomainError) as refused:
            create_plan(patient=assessed_patient, practitioner=myotherapist, goals="b", phases=[])

        assert refused.value.code == "plan_active"
        assert assessed_patient.plans.filter(status=PlanStatus.ACTIVE).count() == 1


def test_one_note_per_session(session, myotherapist):
    start_note(appointment=session, author=myotherapist)

    with pytest.raises(DomainError) as refused:
        start_note(appointment=session, author=myotherapist)

    assert refused.value.code == "note_exists"


def test_cancelled_sessions_take_no_note(session, myotherapist):
    session.status = Status.CANCELLED
    session.cancelled_at = at(TODAY, 8)
    session.save()

    with pytest.raises(DomainError) as refused:
        start_note(appointment=session, author=myotherapist)

    assert refused.value.code == "not_a_session"


def test_a_note_belongs_to_its_sessions_patient_and_start_whatever_the_code_says(
    session, myotherapist, other_patient
):
    """The database fills the note's patient and session start from its appointment, on
    insert and update."""
    elsewhen = session.start - timedelta(days=3)
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO treatments_treatmentnote (appointment_id, patient_id, session_start,
                   author_id, subjective, pain_locations, posture_findings, regions_treated,
                   objective, assessment, plan, created_at, updated_at)
               VALUES (%s, %s, %s, %s, '', '{}', '{}', '{}', '', '', '', now(), now())
               RETURNING id""",
            [session.pk, other_patient.pk, elsewhen, myotherapist.pk],
        )
        (note_id,) = cursor.fetchone()
        inserted = TreatmentNote.objects.get(pk=note_id)
        for column, value in [("patient_id", other_patient.pk), ("session_start", elsewhen)]:
            cursor.execute(
                f"UPDATE treatments_treatmentnote SET {column} = %s WHERE id = %s",
                [value, note_id],
            )

    note = TreatmentNote.objects.get(pk=note_id)
    assert (inserted.patient, inserted.session_start) == (session.patient, session.start)
    assert (note.patient, note.session_start) == (session.patient, session.start)
