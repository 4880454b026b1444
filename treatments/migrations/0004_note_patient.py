"""A note carries its session's patient (see `TreatmentNote.patient`): the column, the
trigger that fills it from the appointment on every write, and the backfill.

The backfill updates signed notes, which the trigger of 0002 refuses: it is switched off for
the one UPDATE, in this migration's transaction. 0005 then makes the column NOT NULL (in a
transaction of its own: PostgreSQL will not alter a table with trigger events pending)."""

import django.db.models.deletion
from django.db import migrations, models

FORWARD = """
CREATE FUNCTION treatments_note_patient_is_the_sessions() RETURNS trigger AS $$
BEGIN
    SELECT patient_id INTO NEW.patient_id
    FROM appointments_appointment WHERE id = NEW.appointment_id;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER note_patient_is_the_sessions
    BEFORE INSERT OR UPDATE OF appointment_id, patient_id ON treatments_treatmentnote
    FOR EACH ROW EXECUTE FUNCTION treatments_note_patient_is_the_sessions();

ALTER TABLE treatments_treatmentnote DISABLE TRIGGER treatment_note_signed_is_final;
UPDATE treatments_treatmentnote n SET patient_id = a.patient_id
    FROM appointments_appointment a WHERE a.id = n.appointment_id;
ALTER TABLE treatments_treatmentnote ENABLE TRIGGER treatment_note_signed_is_final;
"""

BACKWARD = """
DROP TRIGGER note_patient_is_the_sessions ON treatments_treatmentnote;
DROP FUNCTION treatments_note_patient_is_the_sessions();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0003_patients_are_never_deleted"),
        ("treatments", "0003_clinical_records_are_never_deleted"),
    ]

    operations = [
        migrations.AddField(
            model_name="treatmentnote",
            name="patient",
            field=models.ForeignKey(
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="patients.patient",
            ),
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
