"""A break of the glass is a record of access to a patient's clinical record, reviewed by the
manager: PostgreSQL refuses to change or delete one, whoever asks (as for the audit log).
It ends by its expiry, never by an edit."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION patients_refuse_break_glass_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'a break of the glass is final: % refused', TG_OP
        USING ERRCODE = 'integrity_constraint_violation',
              CONSTRAINT = 'break_glass_accesses_are_final';
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER break_glass_accesses_are_final
    BEFORE UPDATE OR DELETE ON patients_breakglassaccess
    FOR EACH ROW EXECUTE FUNCTION patients_refuse_break_glass_change();
"""

BACKWARD = """
DROP TRIGGER break_glass_accesses_are_final ON patients_breakglassaccess;
DROP FUNCTION patients_refuse_break_glass_change();
"""


class Migration(migrations.Migration):
    dependencies = [("patients", "0004_care_assignments_and_break_glass")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
