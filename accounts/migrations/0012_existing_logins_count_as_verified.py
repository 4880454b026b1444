"""Logins made before email verification existed count as verified (as of this migration),
so that no patient who booked online yesterday is refused today. Their addresses were
never proved; the clinic accepted that when it let them register. Reversing it forgets
the marks (the previous code did not read them)."""

from django.db import migrations
from django.db.models.functions import Now


def mark_existing_logins_verified(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    User.objects.filter(email_verified_at=None).update(email_verified_at=Now())


def forget_the_marks(apps, schema_editor):
    apps.get_model("accounts", "User").objects.update(email_verified_at=None)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0011_user_email_verification_and_pending_email")]

    operations = [migrations.RunPython(mark_existing_logins_verified, forget_the_marks)]
