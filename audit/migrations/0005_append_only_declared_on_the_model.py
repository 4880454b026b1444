"""The audit log's append-only rule, declared on the model (`AuditEntry.Meta.triggers`),
takes over from the hand-written trigger of 0002: that one is dropped first, and put back
when this migration is unapplied."""

from importlib import import_module

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations

import kernel.triggers

HAND_WRITTEN = import_module("audit.migrations.0002_append_only")


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0004_break_glass_action"),
    ]

    operations = [
        migrations.RunSQL(HAND_WRITTEN.BACKWARD, HAND_WRITTEN.FORWARD),
        pgtrigger.migrations.AddTrigger(
            model_name="auditentry",
            trigger=pgtrigger.compiler.Trigger(
                name="audit_log_is_append_only",
                sql=kernel.triggers.UnskippableTriggerSql(
                    func="RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'audit_log_is_append_only';",
                    hash="a59a14674253e70538e603b9a1100e1e8fe231ed",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_audit_log_is_append_only_541c6",
                    table="audit_auditentry",
                    when="BEFORE",
                ),
            ),
        ),
    ]
