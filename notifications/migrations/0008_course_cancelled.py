"""The words of the one notice for visits of a course cancelled together
(`Kind.COURSE_CANCELLED`). The manager edits them in the admin."""

from django.db import migrations, models

EMAIL_SUBJECT = "Visits of your {{ service }} course are cancelled"
EMAIL_BODY = (
    "Hi {{ patient }},\n\nThese visits of your {{ service }} course at {{ location }} are "
    "cancelled:\n\n{{ visits }}\n\nBook again any time: {{ book_url }}"
    "\n\nSee you soon,\n{{ clinic }}"
)
SMS_BODY = (
    "{{ clinic }}: visits of your {{ service }} course from {{ start }} are cancelled. "
    "Rebook: {{ book_url }}"
)
KINDS = [
    ("confirmation", "Booking confirmation"),
    ("reminder", "Appointment reminder"),
    ("rescheduled", "Reschedule notice"),
    ("cancelled", "Cancellation notice"),
    ("course_confirmation", "Course confirmation"),
    ("course_cancelled", "Course cancellation notice"),
    ("maintenance_prompt", "Maintenance-visit prompt"),
    ("recall", "Recall"),
]


def create_templates(apps, schema_editor):
    MessageTemplate = apps.get_model("notifications", "MessageTemplate")
    MessageTemplate.objects.get_or_create(
        kind="course_cancelled",
        channel="email",
        defaults={"subject": EMAIL_SUBJECT, "body": EMAIL_BODY},
    )
    MessageTemplate.objects.get_or_create(
        kind="course_cancelled", channel="sms", defaults={"body": SMS_BODY}
    )


def remove_templates(apps, schema_editor):
    apps.get_model("notifications", "MessageTemplate").objects.filter(
        kind="course_cancelled"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("notifications", "0007_course_confirmation_kind")]

    operations = [
        migrations.AlterField(
            model_name="messagetemplate",
            name="kind",
            field=models.CharField(choices=KINDS, max_length=30),
        ),
        migrations.AlterField(
            model_name="notification",
            name="kind",
            field=models.CharField(choices=KINDS, max_length=30),
        ),
        migrations.RunPython(create_templates, remove_templates),
    ]
