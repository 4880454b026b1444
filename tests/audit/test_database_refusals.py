"""The database's refusals are the triggers declared on the models (`Meta.triggers`): the
migrations installed exactly those on each protected table, as declared — none of the
hand-written triggers they replaced is left, none is missing, none is disabled. A refusal
is an `IntegrityError` that carries its name, which is what the code mapping it matches.
Every other trigger (those that keep the diary versions) is declared on its model too."""

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction

from audit.models import Action, AuditEntry
from patients.models import RECORDS_ARE_NEVER_DELETED, BreakGlassAccess, Patient
from treatments.models import (
    Addendum,
    ExerciseEntry,
    Intake,
    OutcomeMeasure,
    PlanPhase,
    RedFlagClearance,
    TreatmentNote,
    TreatmentPlan,
)

PROTECTED = {
    AuditEntry: {"audit_log_is_append_only"},
    Patient: {"patient_is_never_deleted"},
    BreakGlassAccess: {"break_glass_accesses_are_final"},
    Intake: {"treatments_intake_is_never_deleted"},
    RedFlagClearance: {"treatments_redflagclearance_is_never_deleted"},
    TreatmentPlan: {"treatments_treatmentplan_is_never_deleted"},
    PlanPhase: {"treatments_planphase_is_never_deleted"},
    OutcomeMeasure: {"treatments_outcomemeasure_is_never_deleted"},
    TreatmentNote: {"treatment_note_signed_is_final", "note_patient_and_start_are_the_sessions"},
    ExerciseEntry: {"exercise_entry_of_signed_note_is_final"},
    Addendum: {"addendum_is_final"},
}


def rows(sql: str, params: list | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def enabled_triggers_on(table: str) -> set[str]:
    return {
        name
        for name, enabled in rows(
            "SELECT tgname, tgenabled FROM pg_trigger"
            " WHERE tgrelid = %s::regclass AND NOT tgisinternal",
            [table],
        )
        if enabled == "O"
    }


@pytest.mark.parametrize("model", PROTECTED, ids=lambda model: model._meta.label)
def test_each_protected_table_carries_exactly_the_triggers_declared_on_its_model(db, model):
    triggers = model._meta.triggers

    assert {trigger.name for trigger in triggers} == PROTECTED[model]
    assert enabled_triggers_on(model._meta.db_table) == {
        trigger.get_pgid(model) for trigger in triggers
    }
    # The installed function is the declared one, not an older version of it.
    assert {trigger.get_installation_status(model) for trigger in triggers} == {("INSTALLED", True)}


# Besides the refusals, the triggers that keep the diary versions (practice.DiaryVersion).
DECLARING = [model for model in apps.get_models() if getattr(model._meta, "triggers", None)]


@pytest.mark.parametrize("model", DECLARING, ids=lambda model: model._meta.label)
def test_each_table_carries_exactly_the_triggers_declared_on_its_model(db, model):
    triggers = model._meta.triggers

    assert enabled_triggers_on(model._meta.db_table) == {
        trigger.get_pgid(model) for trigger in triggers
    }
    assert {trigger.get_installation_status(model) for trigger in triggers} == {("INSTALLED", True)}


def test_no_other_table_carries_a_trigger_and_no_hand_written_function_is_left(db):
    tables = rows("SELECT DISTINCT tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal")
    trigger_functions = rows(
        "SELECT proname FROM pg_proc WHERE prorettype = 'trigger'::regtype"
        " AND pronamespace = 'public'::regnamespace"
    )

    assert set(PROTECTED) <= set(DECLARING)
    assert {table for (table,) in tables} == {model._meta.db_table for model in DECLARING}
    assert {name for (name,) in trigger_functions} == {
        trigger.get_pgid(model) for model in DECLARING for trigger in model._meta.triggers
    }


@pytest.mark.parametrize(
    ("statement", "refused_as"),
    [
        ("UPDATE audit_auditentry SET action = 'create'", "audit_log_is_append_only"),
        ("DELETE FROM audit_auditentry", "audit_log_is_append_only"),
        ("DELETE FROM patients_patient", RECORDS_ARE_NEVER_DELETED),
    ],
)
def test_a_refusal_is_an_integrity_error_named_for_the_code_that_maps_it(
    patient, statement, refused_as
):
    AuditEntry.objects.create(action=Action.READ, patient=patient)

    with (
        pytest.raises(IntegrityError) as refused,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)

    assert refused.value.__cause__.diag.constraint_name == refused_as


def test_no_session_skips_them_by_naming_them_in_pgtrigger_ignore(patient):
    """pgtrigger's triggers skip themselves for a session whose `pgtrigger.ignore` names
    them; these do not ask, so the application's role cannot switch a rule off."""
    entry = AuditEntry.objects.create(action=Action.READ, patient=patient)
    every_trigger = ",".join(
        trigger.get_pgid(model) for model in DECLARING for trigger in model._meta.triggers
    )

    with (
        pytest.raises(IntegrityError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "SELECT set_config('pgtrigger.ignore', %s, true)", ["{" + every_trigger + "}"]
        )
        cursor.execute("UPDATE audit_auditentry SET action = 'create' WHERE id = %s", [entry.pk])
    # Nor does any of the others ask.
    asking = rows(
        "SELECT proname FROM pg_proc WHERE prorettype = 'trigger'::regtype"
        " AND prosrc LIKE '%%pgtrigger_should_ignore%%'"
    )
    assert asking == []
