"""The diary version of each location, kept by triggers: appointments.slot_cache keys the
answers it keeps by them. Each existing location gets its row here; new ones get it from
their own trigger."""

import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models

import kernel.triggers


class Migration(migrations.Migration):
    dependencies = [
        ("practice", "0002_default_booking_rules"),
    ]

    operations = [
        migrations.CreateModel(
            name="DiaryVersion",
            fields=[
                (
                    "location",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="practice.location",
                    ),
                ),
                (
                    "version",
                    models.BigIntegerField(
                        help_text="The id of the last transaction that changed this location's diary."
                    ),
                ),
            ],
            options={"db_table": "practice_diaryversion", "default_permissions": ()},
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="bookingrules",
            trigger=pgtrigger.compiler.Trigger(
                name="booking_rules_bumps_diary_version",
                sql=kernel.triggers.UnskippableTriggerSql(
                    constraint="CONSTRAINT",
                    func="\n        UPDATE practice_diaryversion SET version = txid_current()\n        WHERE location_id IN (\n            SELECT location_id FROM practice_diaryversion\n            WHERE version <> txid_current()\n            ORDER BY location_id\n            FOR UPDATE\n        );\n        RETURN NULL;\n        ",
                    hash="04802ba10d3bbdacb08e496d0e3f40645a7922d3",
                    operation="INSERT OR UPDATE OR DELETE",
                    pgid="pgtrigger_booking_rules_bumps_diary_version_e5093",
                    table="practice_bookingrules",
                    timing="DEFERRABLE INITIALLY DEFERRED",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="break",
            trigger=pgtrigger.compiler.Trigger(
                name="break_bumps_diary_version",
                sql=kernel.triggers.UnskippableTriggerSql(
                    constraint="CONSTRAINT",
                    func="\n        UPDATE practice_diaryversion SET version = txid_current()\n        WHERE location_id IN (\n            SELECT location_id FROM practice_diaryversion\n            WHERE location_id = ANY(ARRAY(\n                    SELECT location_id FROM practice_workinghours\n                    WHERE id IN (OLD.working_hours_id, NEW.working_hours_id)\n                )) AND version <> txid_current()\n            ORDER BY location_id\n            FOR UPDATE\n        );\n        RETURN NULL;\n        ",
                    hash="71ba221138b4736c69a41380a3f37fd5d5c9aea1",
                    operation="INSERT OR UPDATE OR DELETE",
                    pgid="pgtrigger_break_bumps_diary_version_444cb",
                    table="practice_break",
                    timing="DEFERRABLE INITIALLY DEFERRED",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="extrahours",
            trigger=pgtrigger.compiler.Trigger(
                name="extra_hours_bumps_diary_version",
                sql=kernel.triggers.UnskippableTriggerSql(
                    constraint="CONSTRAINT",
                    func="\n        UPDATE practice_diaryversion SET version = txid_current()\n        WHERE location_id IN (\n            SELECT location_id FROM practice_diaryversion\n            WHERE location_id = ANY(ARRAY[OLD.location_id, NEW.location_id]) AND version <> txid_current()\n            ORDER BY location_id\n            FOR UPDATE\n        );\n        RETURN NULL;\n        ",
                    hash="876c53beee0dd8ce816b4c38f72a5efc705fc17e",
                    operation="INSERT OR UPDATE OR DELETE",
                    pgid="pgtrigger_extra_hours_bumps_diary_version_f2e6c",
                    table="practice_extrahours",
                    timing="DEFERRABLE INITIALLY DEFERRED",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="leave",
            trigger=pgtrigger.compiler.Trigger(
                name="leave_bumps_diary_version",
                sql=kernel.triggers.UnskippableTriggerSql(
                    constraint="CONSTRAINT",
                    func="\n        UPDATE practice_diaryversion SET version = txid_current()\n        WHERE location_id IN (\n            SELECT location_id FROM practice_diaryversion\n            WHERE version <> txid_current()\n            ORDER BY location_id\n            FOR UPDATE\n        );\n        RETURN NULL;\n        ",
                    hash="54842bb4d85ad1cb4f9cf2641a91fc386da7a69d",
                    operation="INSERT OR UPDATE OR DELETE",
                    pgid="pgtrigger_leave_bumps_diary_version_78aec",
                    table="practice_leave",
                    timing="DEFERRABLE INITIALLY DEFERRED",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="location",
            trigger=pgtrigger.compiler.Trigger(
                name="location_has_a_diary_version",
                sql=kernel.triggers.UnskippableTriggerSql(
                    func="\n                IF TG_OP = 'INSERT' THEN\n                    INSERT INTO practice_diaryversion (location_id, version)\n                    VALUES (NEW.id, txid_current());\n                ELSE\n                    DELETE FROM practice_diaryversion WHERE location_id = OLD.id;\n                END IF;\n                RETURN NULL;\n                ",
                    hash="a3152358e8d3df09dc4db30f31777b4ca5545241",
                    operation="INSERT OR DELETE",
                    pgid="pgtrigger_location_has_a_diary_version_82b54",
                    table="practice_location",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="location",
            trigger=pgtrigger.compiler.Trigger(
                name="location_bumps_diary_version",
                sql=kernel.triggers.UnskippableTriggerSql(
                    constraint="CONSTRAINT",
                    func="\n        UPDATE practice_diaryversion SET version = txid_current()\n        WHERE location_id IN (\n            SELECT location_id FROM practice_diaryversion\n            WHERE location_id = ANY(ARRAY[NEW.id]) AND version <> txid_current()\n            ORDER BY location_id\n            FOR UPDATE\n        );\n        RETURN NULL;\n        ",
                    hash="80b06ca573850f177321ffae07ed324fbcafa82d",
                    operation="UPDATE",
                    pgid="pgtrigger_location_bumps_diary_version_bc120",
                    table="practice_location",
                    timing="DEFERRABLE INITIALLY DEFERRED",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="practitioner",
            trigger=pgtrigger.compiler.Trigger(
                name="practitioner_bumps_diary_version",
                sql=kernel.triggers.UnskippableTriggerSql(
                    constraint="CONSTRAINT",
                    func="\n        UPDATE practice_diaryversion SET version = txid_current()\n        WHERE location_id IN (\n            SELECT location_id FROM practice_diaryversion\n            WHERE version <> txid_current()\n            ORDER BY location_id\n            FOR UPDATE\n        );\n        RETURN NULL;\n        ",
                    hash="c6ba9b0f4015d1bad6e3a7e74e4c66d1b83cb56b",
                    operation="INSERT OR UPDATE OR DELETE",
                    pgid="pgtrigger_practitioner_bumps_diary_version_a8609",
                    table="practice_practitioner",
                    timing="DEFERRABLE INITIALLY DEFERRED",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="room",
            trigger=pgtrigger.compiler.Trigger(
                name="room_bumps_diary_version",
                sql=kernel.triggers.UnskippableTriggerSql(
                    constraint="CONSTRAINT",
                    func="\n        UPDATE practice_diaryversion SET version = txid_current()\n        WHERE location_id IN (\n            SELECT location_id FROM practice_diaryversion\n            WHERE location_id = ANY(ARRAY[OLD.location_id, NEW.location_id]) AND version <> txid_current()\n            ORDER BY location_id\n            FOR UPDATE\n        );\n        RETURN NULL;\n        ",
                    hash="1ee7d3f18958675d31b8a44f885a607ae2ea56a8",
                    operation="INSERT OR UPDATE OR DELETE",
                    pgid="pgtrigger_room_bumps_diary_version_bc1da",
                    table="practice_room",
                    timing="DEFERRABLE INITIALLY DEFERRED",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="service",
            trigger=pgtrigger.compiler.Trigger(
                name="service_bumps_diary_version",
                sql=kernel.triggers.UnskippableTriggerSql(
                    constraint="CONSTRAINT",
                    func="\n        UPDATE practice_diaryversion SET version = txid_current()\n        WHERE location_id IN (\n            SELECT location_id FROM practice_diaryversion\n            WHERE version <> txid_current()\n            ORDER BY location_id\n            FOR UPDATE\n        );\n        RETURN NULL;\n        ",
                    hash="26f6d7b748ad30b08e2b8f5581895312e98d21b3",
                    operation="INSERT OR UPDATE OR DELETE",
                    pgid="pgtrigger_service_bumps_diary_version_55376",
                    table="practice_service",
                    timing="DEFERRABLE INITIALLY DEFERRED",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="workinghours",
            trigger=pgtrigger.compiler.Trigger(
                name="working_hours_bumps_diary_version",
                sql=kernel.triggers.UnskippableTriggerSql(
                    constraint="CONSTRAINT",
                    func="\n        UPDATE practice_diaryversion SET version = txid_current()\n        WHERE location_id IN (\n            SELECT location_id FROM practice_diaryversion\n            WHERE location_id = ANY(ARRAY[OLD.location_id, NEW.location_id]) AND version <> txid_current()\n            ORDER BY location_id\n            FOR UPDATE\n        );\n        RETURN NULL;\n        ",
                    hash="b1fe77cb73ee328a69496ca3636a6f0f904826a6",
                    operation="INSERT OR UPDATE OR DELETE",
                    pgid="pgtrigger_working_hours_bumps_diary_version_434d7",
                    table="practice_workinghours",
                    timing="DEFERRABLE INITIALLY DEFERRED",
                    when="AFTER",
                ),
            ),
        ),
        migrations.RunSQL(
            "INSERT INTO practice_diaryversion (location_id, version)"
            " SELECT id, txid_current() FROM practice_location",
            migrations.RunSQL.noop,  # the table goes with the model
        ),
    ]
