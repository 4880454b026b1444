"""A patient's record is never deleted: PostgreSQL refuses DELETE on it, whoever asks (the
ORM, the admin, raw SQL). A record that is closed is archived instead.

The trigger function is shared with the clinical records' tables (treatments.0003). It is a
row trigger: TRUNCATE, which needs the table's owner and is how a test database is emptied,
is not refused."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION refuse_record_delete() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'DELETE on % refused: patients and their clinical records are never deleted (archive the patient instead)', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation',
              CONSTRAINT = 'records_are_never_deleted';
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER patient_is_never_deleted
    BEFORE DELETE ON patients_patient
    FOR EACH ROW EXECUTE FUNCTION refuse_record_delete();
"""

BACKWARD = """
DROP TRIGGER patient_is_never_deleted ON patients_patient;
DROP FUNCTION refuse_record_delete();
"""


class Migration(migrations.Migration):
    dependencies = [("patients", "0002_patient_archival")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
