"""The rules declared on the models (`Meta.triggers`) take over from the hand-written
triggers of 0002, 0003 and 0004: those are dropped first, and put back when this migration
is unapplied (0004's backfill then runs again: it gives each note the patient it has).

Runs before patients.0006, which drops the function that 0003's triggers call."""

from importlib import import_module

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations

import kernel.triggers

SIGNED_FINAL = import_module("treatments.migrations.0002_signed_records_are_final")
NEVER_DELETED = import_module("treatments.migrations.0003_clinical_records_are_never_deleted")
NOTE_PATIENT = import_module("treatments.migrations.0004_note_patient")


class Migration(migrations.Migration):
    dependencies = [
        ("treatments", "0005_note_patient_required"),
    ]

    run_before = [("patients", "0006_refusals_declared_on_the_models")]

    operations = [
        migrations.RunSQL(
            NOTE_PATIENT.BACKWARD + NEVER_DELETED.BACKWARD + SIGNED_FINAL.BACKWARD,
            SIGNED_FINAL.FORWARD + NEVER_DELETED.FORWARD + NOTE_PATIENT.FORWARD,
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="addendum",
            trigger=pgtrigger.compiler.Trigger(
                name="addendum_is_final",
                sql=kernel.triggers.UnskippableTriggerSql(
                    func="RAISE EXCEPTION 'addenda are final: add another addendum instead' USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'addendum_is_final';",
                    hash="20705d9da0856db70e9d2224b702cc40dc6c9255",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_addendum_is_final_3c3b6",
                    table="treatments_addendum",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="exerciseentry",
            trigger=pgtrigger.compiler.Trigger(
                name="exercise_entry_of_signed_note_is_final",
                sql=kernel.triggers.UnskippableTriggerSql(
                    declare="DECLARE note_ids bigint[];",
                    func="\n                IF TG_OP = 'INSERT' THEN\n                    note_ids := ARRAY[NEW.note_id];\n                ELSIF TG_OP = 'UPDATE' THEN\n                    note_ids := ARRAY[OLD.note_id, NEW.note_id];\n                ELSE\n                    note_ids := ARRAY[OLD.note_id];\n                END IF;\n                IF EXISTS (\n                    SELECT 1 FROM treatments_treatmentnote\n                    WHERE id = ANY(note_ids) AND signed_at IS NOT NULL\n                ) THEN\n                    RAISE EXCEPTION 'the exercise log of a signed note is final' USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'treatment_note_signed_is_final';\n                END IF;\n                IF TG_OP = 'DELETE' THEN\n                    RETURN OLD;\n                END IF;\n                RETURN NEW;\n                ",
                    hash="1f135612d99f7a93e67d30f1590633573477492e",
                    operation="INSERT OR UPDATE OR DELETE",
                    pgid="pgtrigger_exercise_entry_of_signed_note_is_final_afb9d",
                    table="treatments_exerciseentry",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="intake",
            trigger=pgtrigger.compiler.Trigger(
                name="treatments_intake_is_never_deleted",
                sql=kernel.triggers.UnskippableTriggerSql(
                    func="RAISE EXCEPTION 'DELETE on % refused: patients and their clinical records are never deleted (archive the patient instead)', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'records_are_never_deleted';",
                    hash="dbb4b9f9507bc51dc7b7333ddc44222921ca3169",
                    operation="DELETE",
                    pgid="pgtrigger_treatments_intake_is_never_deleted_ae5b7",
                    table="treatments_intake",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="outcomemeasure",
            trigger=pgtrigger.compiler.Trigger(
                name="treatments_outcomemeasure_is_never_deleted",
                sql=kernel.triggers.UnskippableTriggerSql(
                    func="RAISE EXCEPTION 'DELETE on % refused: patients and their clinical records are never deleted (archive the patient instead)', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'records_are_never_deleted';",
                    hash="b65a2120d310c0bd0c932595d992c0d0fa5e207c",
                    operation="DELETE",
                    pgid="pgtrigger_treatments_outcomemeasure_is_never_deleted_8e17a",
                    table="treatments_outcomemeasure",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="planphase",
            trigger=pgtrigger.compiler.Trigger(
                name="treatments_planphase_is_never_deleted",
                sql=kernel.triggers.UnskippableTriggerSql(
                    func="RAISE EXCEPTION 'DELETE on % refused: patients and their clinical records are never deleted (archive the patient instead)', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'records_are_never_deleted';",
                    hash="c6b2398566069912ed70fb1fed1502aa3b76ee8a",
                    operation="DELETE",
                    pgid="pgtrigger_treatments_planphase_is_never_deleted_8c541",
                    table="treatments_planphase",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="redflagclearance",
            trigger=pgtrigger.compiler.Trigger(
                name="treatments_redflagclearance_is_never_deleted",
                sql=kernel.triggers.UnskippableTriggerSql(
                    func="RAISE EXCEPTION 'DELETE on % refused: patients and their clinical records are never deleted (archive the patient instead)', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'records_are_never_deleted';",
                    hash="8c7137abbb46dc386de0618ab6b2830b17c0ea44",
                    operation="DELETE",
                    pgid="pgtrigger_treatments_redflagclearance_is_never_deleted_14a29",
                    table="treatments_redflagclearance",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="treatmentnote",
            trigger=pgtrigger.compiler.Trigger(
                name="treatment_note_signed_is_final",
                sql=kernel.triggers.UnskippableTriggerSql(
                    condition='WHEN (OLD."signed_at" IS NOT NULL)',
                    func="RAISE EXCEPTION 'treatment note % is signed: it is final; add an addendum instead', OLD.id USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'treatment_note_signed_is_final';",
                    hash="4d820daf0553c75a8e190433615dcd6eb43b8584",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_treatment_note_signed_is_final_ec46a",
                    table="treatments_treatmentnote",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="treatmentnote",
            trigger=pgtrigger.compiler.Trigger(
                name="note_patient_is_the_sessions",
                sql=kernel.triggers.UnskippableTriggerSql(
                    func="\n                SELECT patient_id INTO NEW.patient_id\n                FROM appointments_appointment WHERE id = NEW.appointment_id;\n                RETURN NEW;\n                ",
                    hash="c8cc19c78709604518c3f9e866f512d724e1637f",
                    operation='INSERT OR UPDATE OF "appointment_id", "patient_id"',
                    pgid="pgtrigger_note_patient_is_the_sessions_a0d36",
                    table="treatments_treatmentnote",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="treatmentplan",
            trigger=pgtrigger.compiler.Trigger(
                name="treatments_treatmentplan_is_never_deleted",
                sql=kernel.triggers.UnskippableTriggerSql(
                    func="RAISE EXCEPTION 'DELETE on % refused: patients and their clinical records are never deleted (archive the patient instead)', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'records_are_never_deleted';",
                    hash="f5a0c7dbdbf55fc9f9a9c11397f9ee80f36841ad",
                    operation="DELETE",
                    pgid="pgtrigger_treatments_treatmentplan_is_never_deleted_f6b82",
                    table="treatments_treatmentplan",
                    when="BEFORE",
                ),
            ),
        ),
    ]
