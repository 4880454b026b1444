"""Signed notes, their exercise logs and addenda are final: PostgreSQL refuses to change
or delete them, whoever asks (the ORM, the admin, raw SQL). Signing is the one UPDATE a
note may still take: it sets signed_at on a draft."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION treatments_refuse_signed_note_change() RETURNS trigger AS $$
BEGIN
    IF OLD.signed_at IS NOT NULL THEN
        RAISE EXCEPTION 'treatment note % is signed: it is final; add an addendum instead', OLD.id
            USING ERRCODE = 'integrity_constraint_violation',
                  CONSTRAINT = 'treatment_note_signed_is_final';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER treatment_note_signed_is_final
    BEFORE UPDATE OR DELETE ON treatments_treatmentnote
    FOR EACH ROW EXECUTE FUNCTION treatments_refuse_signed_note_change();

CREATE FUNCTION treatments_refuse_signed_exercise_change() RETURNS trigger AS $$
DECLARE
    note_ids bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        note_ids := ARRAY[NEW.note_id];
    ELSIF TG_OP = 'UPDATE' THEN
        note_ids := ARRAY[OLD.note_id, NEW.note_id];
    ELSE
        note_ids := ARRAY[OLD.note_id];
    END IF;
    IF EXISTS (
        SELECT 1 FROM treatments_treatmentnote
        WHERE id = ANY(note_ids) AND signed_at IS NOT NULL
    ) THEN
        RAISE EXCEPTION 'the exercise log of a signed note is final'
            USING ERRCODE = 'integrity_constraint_violation',
                  CONSTRAINT = 'treatment_note_signed_is_final';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER exercise_entry_of_signed_note_is_final
    BEFORE INSERT OR UPDATE OR DELETE ON treatments_exerciseentry
    FOR EACH ROW EXECUTE FUNCTION treatments_refuse_signed_exercise_change();

CREATE FUNCTION treatments_refuse_addendum_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'addenda are final: add another addendum instead'
        USING ERRCODE = 'integrity_constraint_violation',
              CONSTRAINT = 'addendum_is_final';
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER addendum_is_final
    BEFORE UPDATE OR DELETE ON treatments_addendum
    FOR EACH ROW EXECUTE FUNCTION treatments_refuse_addendum_change();
"""

BACKWARD = """
DROP TRIGGER addendum_is_final ON treatments_addendum;
DROP FUNCTION treatments_refuse_addendum_change();
DROP TRIGGER exercise_entry_of_signed_note_is_final ON treatments_exerciseentry;
DROP FUNCTION treatments_refuse_signed_exercise_change();
DROP TRIGGER treatment_note_signed_is_final ON treatments_treatmentnote;
DROP FUNCTION treatments_refuse_signed_note_change();
"""


class Migration(migrations.Migration):
    dependencies = [("treatments", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
