"""The audit log: who read or changed whose record, and every sign-in, from where.

Append-only: PostgreSQL refuses UPDATE and DELETE on the table (the trigger in
`AuditEntry.Meta.triggers`), so an entry, once written, stays as written. Entries name the
patient whose record was touched, which is what a patient's access history (their export)
and a manager's review filter on.
"""

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils import timezone

from kernel.triggers import Refuse


class Action(models.TextChoices):
    READ = "read", "Read"
    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    ARCHIVE = "archive", "Archive"
    EXPORT = "export", "Export"
    LOGIN = "login", "Signed in"
    LOGIN_FAILED = "login_failed", "Failed sign-in"
    LOCKOUT = "lockout", "Locked out"
    RETENTION_REVIEW = "retention_review", "Retention review"
    BREAK_GLASS = "break_glass", "Break the glass"


class AuditEntry(models.Model):
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # audit_by_actor leads with it
        help_text="Empty for failed sign-ins of unknown accounts and for system jobs.",
    )
    # The e-mail as typed or as it was at the time: it outlives a renamed or unknown account.
    actor_label = models.CharField(max_length=254, blank=True)
    # The role the actor acted in then (a practitioner may later become a manager).
    actor_role = models.CharField(max_length=20, blank=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    object_type = models.CharField(
        max_length=60, blank=True, help_text='The record\'s kind, e.g. "patients.patient".'
    )
    object_id = models.CharField(max_length=40, blank=True)
    patient = models.ForeignKey(
        "patients.Patient",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # audit_by_patient leads with it
        help_text="Whose record it is.",
    )
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(
        default=dict,
        blank=True,
        help_text="The endpoint or page, and for changes the names of the fields changed "
        "(never their values: the log must not become a second copy of the record).",
    )

    class Meta:
        verbose_name_plural = "audit entries"
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["patient", "-at"], name="audit_by_patient"),
            models.Index(fields=["actor", "-at"], name="audit_by_actor"),
            models.Index(fields=["-at"], name="audit_by_time"),
        ]
        triggers = [
            # TRUNCATE is not refused: it needs the table's owner, and a test database is
            # emptied with it. In production the application's role does not own the table.
            Refuse(
                name="audit_log_is_append_only",
                operation=pgtrigger.Update | pgtrigger.Delete,
                message="the audit log is append-only: % refused",
                args="TG_OP",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label or 'system'} {self.action}"
