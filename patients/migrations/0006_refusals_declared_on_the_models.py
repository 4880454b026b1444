"""The refusals declared on the models (`Meta.triggers`) take over from the hand-written
triggers of 0003 and 0005: those are dropped first, and put back when this migration is
unapplied.

0003's function served the clinical records' tables too: treatments.0006, which drops their
triggers, runs before this one."""

from importlib import import_module

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations

import kernel.triggers

NEVER_DELETED = import_module("patients.migrations.0003_patients_are_never_deleted")
BREAK_GLASS_FINAL = import_module("patients.migrations.0005_break_glass_accesses_are_final")


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0005_break_glass_accesses_are_final"),
    ]

    operations = [
        migrations.RunSQL(
            BREAK_GLASS_FINAL.BACKWARD + NEVER_DELETED.BACKWARD,
            NEVER_DELETED.FORWARD + BREAK_GLASS_FINAL.FORWARD,
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="breakglassaccess",
            trigger=pgtrigger.compiler.Trigger(
                name="break_glass_accesses_are_final",
                sql=kernel.triggers.UnskippableTriggerSql(
                    func="RAISE EXCEPTION 'a break of the glass is final: % refused', TG_OP USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'break_glass_accesses_are_final';",
                    hash="c0411b0341920c3fd444dcc9af6b698af83d2ba8",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_break_glass_accesses_are_final_76fcf",
                    table="patients_breakglassaccess",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="patient",
            trigger=pgtrigger.compiler.Trigger(
                name="patient_is_never_deleted",
                sql=kernel.triggers.UnskippableTriggerSql(
                    func="RAISE EXCEPTION 'DELETE on % refused: patients and their clinical records are never deleted (archive the patient instead)', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'records_are_never_deleted';",
                    hash="ac8c63b6bf9ed93f2efb8ffbf1f0337fcc333e63",
                    operation="DELETE",
                    pgid="pgtrigger_patient_is_never_deleted_5678e",
                    table="patients_patient",
                    when="BEFORE",
                ),
            ),
        ),
    ]
