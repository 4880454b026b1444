"""The words of a course's one confirmation (`Kind.COURSE_CONFIRMATION`): about its first
visit, listing them all. The manager edits them in the admin."""

from django.db import migrations

EMAIL_SUBJECT = "Your {{ service }} course from {{ start_date }}"
EMAIL_BODY = (
    "Hi {{ patient }},\n\nYou are booked for a course of {{ service }} at {{ location }} "
    "({{ address }}):\n\n{{ visits }}\n\nYou will get a reminder before each visit. To move or "
    "cancel one, please let us know at least 24 hours ahead: {{ manage_url }}"
    "\n\nSee you soon,\n{{ clinic }}"
)
SMS_BODY = (
    "{{ clinic }}: your {{ service }} course is booked, first visit {{ start }}, "
    "{{ location }}. All dates: {{ manage_url }}"
)


def create_templates(apps, schema_editor):
    MessageTemplate = apps.get_model("notifications", "MessageTemplate")
    MessageTemplate.objects.get_or_create(
        kind="course_confirmation",
        channel="email",
        defaults={"subject": EMAIL_SUBJECT, "body": EMAIL_BODY},
    )
    MessageTemplate.objects.get_or_create(
        kind="course_confirmation", channel="sms", defaults={"body": SMS_BODY}
    )


def remove_templates(apps, schema_editor):
    apps.get_model("notifications", "MessageTemplate").objects.filter(
        kind="course_confirmation"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("notifications", "0005_columns_sql_can_leave_out")]

    operations = [migrations.RunPython(create_templates, remove_templates)]
