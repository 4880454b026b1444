"""The rules declared on the models (`Meta.triggers`) take over from the hand-written
triggers of 0002, 0003 and 0004: those are dropped first, and put back when this migration
is unapplied (0004's backfill then runs again: it gives each note the patient it has).

Runs before patients.0006, which drops the function that 0003's triggers call."""

from importlib import import_module

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations

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
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'addenda are final: add another addendum instead' USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'addendum_is_final';",
                    hash="aaf7998c8f90971912502ef7f98a98c5648e3f15",
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
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    declare="DECLARE note_ids bigint[];",
                    func="\n                IF TG_OP = 'INSERT' THEN\n                    note_ids := ARRAY[NEW.note_id];\n                ELSIF TG_OP = 'UPDATE' THEN\n                    note_ids := ARRAY[OLD.note_id, NEW.note_id];\n                ELSE\n                    note_ids := ARRAY[OLD.note_id];\n                END IF;\n                IF EXISTS (\n                    SELECT 1 FROM treatments_treatmentnote\n                    WHERE id = ANY(note_ids) AND signed_at IS NOT NULL\n                ) THEN\n                    RAISE EXCEPTION 'the exercise log of a signed note is final' USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'treatment_note_signed_is_final';\n                END IF;\n                IF TG_OP = 'DELETE' THEN\n                    RETURN OLD;\n                END IF;\n                RETURN NEW;\n                ",
                    hash="ec80dbeca70a7976d08ced68efb3aa8ddf1a05fc",
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
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'DELETE on % refused: patients and their clinical records are never deleted (archive the patient instead)', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'records_are_never_deleted';",
                    hash="d9860d2fac61fa684ee145cb24eb44729cc25d9f",
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
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'DELETE on % refused: patients and their clinical records are never deleted (archive the patient instead)', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'records_are_never_deleted';",
                    hash="de941691d2df514d87ce9df47b1c1d057c747041",
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
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'DELETE on % refused: patients and their clinical records are never deleted (archive the patient instead)', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'records_are_never_deleted';",
                    hash="3feaa72cb62b062fc931988fa4aee9fdce3bb581",
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
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'DELETE on % refused: patients and their clinical records are never deleted (archive the patient instead)', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'records_are_never_deleted';",
                    hash="6cc649bc933265f335538357b88fbdc041e1ab85",
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
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition='WHEN (OLD."signed_at" IS NOT NULL)',
                    func="RAISE EXCEPTION 'treatment note % is signed: it is final; add an addendum instead', OLD.id USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'treatment_note_signed_is_final';",
                    hash="d3fbcc31602a0b05ef5ddb6bb867f6e25939fde3",
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
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="\n                SELECT patient_id INTO NEW.patient_id\n                FROM appointments_appointment WHERE id = NEW.appointment_id;\n                RETURN NEW;\n                ",
                    hash="f2a363fc86bdfc1a6ccdcfbc3f1f32f26cc54261",
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
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'DELETE on % refused: patients and their clinical records are never deleted (archive the patient instead)', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'records_are_never_deleted';",
                    hash="72bd3bf69bb283584d7273b7a264786fa2808db1",
                    operation="DELETE",
                    pgid="pgtrigger_treatments_treatmentplan_is_never_deleted_f6b82",
                    table="treatments_treatmentplan",
                    when="BEFORE",
                ),
            ),
        ),
    ]
