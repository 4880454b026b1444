"""Clinical records are never deleted: PostgreSQL refuses DELETE on intakes, red-flag
clearances, plans and their phases, and outcome measures, whoever asks. Signed notes, their
exercise logs and addenda were already final (0002).

A draft note is not refused: until its author signs it, it is the author's working copy and
not yet part of the record (a patient's export leaves drafts out too), and saving a draft
rewrites its exercise log. Row triggers only: TRUNCATE, which empties a test database, is
not refused."""

from django.db import migrations

TABLES = [
    "treatments_intake",
    "treatments_redflagclearance",
    "treatments_treatmentplan",
    "treatments_planphase",
    "treatments_outcomemeasure",
]

FORWARD = "\n".join(
    f"""CREATE TRIGGER {table}_is_never_deleted
    BEFORE DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION refuse_record_delete();"""
    for table in TABLES
)

BACKWARD = "\n".join(f"DROP TRIGGER {table}_is_never_deleted ON {table};" for table in TABLES)


class Migration(migrations.Migration):
    dependencies = [
        ("treatments", "0002_signed_records_are_final"),
        ("patients", "0003_patients_are_never_deleted"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
