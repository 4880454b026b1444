"""A note carries its session's start too (see `TreatmentNote.session_start`): the column,
the trigger that now fills it with the patient from the appointment on every write (in
place of the one that filled the patient alone), and the backfill.

The backfill updates signed notes, which `treatment_note_signed_is_final` refuses: it is
switched off for the one UPDATE, in this migration's transaction (as 0004 did). 0008 then
makes the column NOT NULL and indexes it (in a transaction of its own: PostgreSQL will not
alter a table with trigger events pending)."""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models

import kernel.triggers

# pgtrigger drops a removed trigger but leaves its function.
DROP_OLD_FUNCTION = "DROP FUNCTION pgtrigger_note_patient_is_the_sessions_a0d36();"
BACKFILL = """
ALTER TABLE treatments_treatmentnote DISABLE TRIGGER pgtrigger_treatment_note_signed_is_final_ec46a;
UPDATE treatments_treatmentnote n SET session_start = a.start
    FROM appointments_appointment a WHERE a.id = n.appointment_id;
ALTER TABLE treatments_treatmentnote ENABLE TRIGGER pgtrigger_treatment_note_signed_is_final_ec46a;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("appointments", "0006_practitioner_index_covers_care"),
        ("patients", "0006_refusals_declared_on_the_models"),
        ("practice", "0002_default_booking_rules"),
        ("treatments", "0006_refusals_declared_on_the_models"),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name="treatmentnote",
            name="note_patient_is_the_sessions",
        ),
        migrations.AddField(
            model_name="treatmentnote",
            name="session_start",
            field=models.DateTimeField(editable=False, null=True),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="treatmentnote",
            trigger=pgtrigger.compiler.Trigger(
                name="note_patient_and_start_are_the_sessions",
                sql=kernel.triggers.UnskippableTriggerSql(
                    func="\n                SELECT patient_id, start INTO NEW.patient_id, NEW.session_start\n                FROM appointments_appointment WHERE id = NEW.appointment_id;\n                RETURN NEW;\n                ",
                    hash="976867f8a92d76ae57c358a5936f5c0b6af14277",
                    operation='INSERT OR UPDATE OF "appointment_id", "patient_id", "session_start"',
                    pgid="pgtrigger_note_patient_and_start_are_the_sessions_ae3d3",
                    table="treatments_treatmentnote",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.RunSQL(DROP_OLD_FUNCTION, migrations.RunSQL.noop),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
    ]
