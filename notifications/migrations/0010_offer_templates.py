"""The clinic's first words for a waitlist offer of a freed time, by email and SMS. The
manager edits them in the admin."""

from django.db import migrations

SUBJECT = "A time came free: {{ service }} on {{ start }}"
EMAIL = (
    "Hi {{ patient }},\n\nYou are on our waitlist, and a time has come free: {{ service }} "
    "with {{ practitioner }} at {{ location }} ({{ address }}) on {{ start }}.\n\nWe are "
    "holding it for you until {{ expires }}. To take it, or to pass, open: {{ offer_url }}"
    "\n\nIf you pass, you stay on the waitlist.\n\nSee you soon,\n{{ clinic }}"
)
SMS = (
    "{{ clinic }}: a time came free: {{ service }} with {{ practitioner }}, {{ start }}, "
    "{{ location }}. Held for you until {{ expires }}. Reply YES to take it or NO to pass, "
    "or open {{ offer_url }}"
)


def create_defaults(apps, schema_editor):
    MessageTemplate = apps.get_model("notifications", "MessageTemplate")
    MessageTemplate.objects.get_or_create(
        kind="waitlist_offer", channel="email", defaults={"subject": SUBJECT, "body": EMAIL}
    )
    MessageTemplate.objects.get_or_create(
        kind="waitlist_offer", channel="sms", defaults={"body": SMS}
    )


def remove_defaults(apps, schema_editor):
    apps.get_model("notifications", "MessageTemplate").objects.filter(
        kind="waitlist_offer"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("notifications", "0009_offer_messages")]

    operations = [migrations.RunPython(create_defaults, remove_defaults)]
