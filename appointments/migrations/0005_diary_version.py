"""Booking, moving, cancelling or deleting an occupying appointment moves its location's
diary version on (practice.DiaryVersion)."""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations

import kernel.triggers


class Migration(migrations.Migration):
    dependencies = [
        ("appointments", "0004_start_index"),
        ("practice", "0003_diary_version"),
    ]

    operations = [
        pgtrigger.migrations.AddTrigger(
            model_name="appointment",
            trigger=pgtrigger.compiler.Trigger(
                name="appointment_booked_bumps_diary_version",
                sql=kernel.triggers.UnskippableTriggerSql(
                    condition="WHEN (NEW.status IN ('booked', 'checked_in', 'completed'))",
                    constraint="CONSTRAINT",
                    func="\n        UPDATE practice_diaryversion SET version = txid_current()\n        WHERE location_id IN (\n            SELECT location_id FROM practice_diaryversion\n            WHERE location_id = ANY(ARRAY[NEW.location_id]) AND version <> txid_current()\n            ORDER BY location_id\n            FOR UPDATE\n        );\n        RETURN NULL;\n        ",
                    hash="cf350d6a18c1e91f8b695ba68e684d8c2e2de1db",
                    operation="INSERT",
                    pgid="pgtrigger_appointment_booked_bumps_diary_version_0bfd4",
                    table="appointments_appointment",
                    timing="DEFERRABLE INITIALLY DEFERRED",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="appointment",
            trigger=pgtrigger.compiler.Trigger(
                name="appointment_change_bumps_diary_version",
                sql=kernel.triggers.UnskippableTriggerSql(
                    condition="WHEN ((OLD.status IN ('booked', 'checked_in', 'completed')) IS DISTINCT FROM (NEW.status IN ('booked', 'checked_in', 'completed')) OR (OLD.status IN ('booked', 'checked_in', 'completed') AND (OLD.practitioner_id, OLD.location_id, OLD.room_id, OLD.room_place, OLD.start, OLD.blocked_until) IS DISTINCT FROM (NEW.practitioner_id, NEW.location_id, NEW.room_id, NEW.room_place, NEW.start, NEW.blocked_until)))",
                    constraint="CONSTRAINT",
                    func="\n        UPDATE practice_diaryversion SET version = txid_current()\n        WHERE location_id IN (\n            SELECT location_id FROM practice_diaryversion\n            WHERE location_id = ANY(ARRAY[OLD.location_id, NEW.location_id]) AND version <> txid_current()\n            ORDER BY location_id\n            FOR UPDATE\n        );\n        RETURN NULL;\n        ",
                    hash="af653940f2cdd419ffe6d0754ecb8ab2ee426e38",
                    operation="UPDATE",
                    pgid="pgtrigger_appointment_change_bumps_diary_version_a9fa9",
                    table="appointments_appointment",
                    timing="DEFERRABLE INITIALLY DEFERRED",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="appointment",
            trigger=pgtrigger.compiler.Trigger(
                name="appointment_removal_bumps_diary_version",
                sql=kernel.triggers.UnskippableTriggerSql(
                    condition="WHEN (OLD.status IN ('booked', 'checked_in', 'completed'))",
                    constraint="CONSTRAINT",
                    func="\n        UPDATE practice_diaryversion SET version = txid_current()\n        WHERE location_id IN (\n            SELECT location_id FROM practice_diaryversion\n            WHERE location_id = ANY(ARRAY[OLD.location_id]) AND version <> txid_current()\n            ORDER BY location_id\n            FOR UPDATE\n        );\n        RETURN NULL;\n        ",
                    hash="8f741e3550af91570d510eddda01c16dadda47e3",
                    operation="DELETE",
                    pgid="pgtrigger_appointment_removal_bumps_diary_version_88e7d",
                    table="appointments_appointment",
                    timing="DEFERRABLE INITIALLY DEFERRED",
                    when="AFTER",
                ),
            ),
        ),
    ]
