"""The clinic's first words for each kind of message, and its messaging settings. The
manager edits them in the admin."""

from django.db import migrations

EMAIL_SIGN_OFF = "\n\nSee you soon,\n{{ clinic }}"
TEMPLATES = {
    "confirmation": (
        "Your appointment on {{ start }}",
        "Hi {{ patient }},\n\nYou are booked for {{ service }} with {{ practitioner }} at "
        "{{ location }} ({{ address }}) on {{ start }}. The calendar entry is attached."
        + EMAIL_SIGN_OFF,
        "{{ clinic }}: booked {{ service }} with {{ practitioner }}, {{ start }}, {{ location }}.",
    ),
    "reminder": (
        "Reminder: {{ service }} on {{ start }}",
        "Hi {{ patient }},\n\nA reminder of your {{ service }} with {{ practitioner }} at "
        "{{ location }} on {{ start }}. To move or cancel, please let us know at least 24 "
        "hours ahead." + EMAIL_SIGN_OFF,
        "{{ clinic }} reminder: {{ service }} with {{ practitioner }}, {{ start }}, {{ location }}.",
    ),
    "rescheduled": (
        "Your appointment has moved to {{ start }}",
        "Hi {{ patient }},\n\nYour {{ service }} with {{ practitioner }} is now on {{ start }} "
        "at {{ location }}." + EMAIL_SIGN_OFF,
        "{{ clinic }}: your {{ service }} has moved to {{ start }}, {{ location }}.",
    ),
    "cancelled": (
        "Your appointment on {{ start }} is cancelled",
        "Hi {{ patient }},\n\nYour {{ service }} with {{ practitioner }} on {{ start }} is "
        "cancelled. Book again any time: {{ book_url }}" + EMAIL_SIGN_OFF,
        "{{ clinic }}: your {{ service }} on {{ start }} is cancelled. Rebook: {{ book_url }}",
    ),
    "maintenance_prompt": (
        "Time for your maintenance visit",
        "Hi {{ patient }},\n\nIt has been a while since your last visit. A maintenance "
        "session now keeps the pain from coming back. Book here: {{ book_url }}" + EMAIL_SIGN_OFF,
        "{{ clinic }}: time for your maintenance visit. Book: {{ book_url }}",
    ),
    "recall": (
        "How is your back?",
        "Hi {{ patient }},\n\nWe have not seen you for a while. If the pain is back, or you "
        "want to keep it away, book a session: {{ book_url }}" + EMAIL_SIGN_OFF,
        "{{ clinic }}: how is your back? Book a check-in: {{ book_url }}",
    ),
}


def create_defaults(apps, schema_editor):
    MessageTemplate = apps.get_model("notifications", "MessageTemplate")
    for kind, (subject, email_body, sms_body) in TEMPLATES.items():
        MessageTemplate.objects.get_or_create(
            kind=kind, channel="email", defaults={"subject": subject, "body": email_body}
        )
        MessageTemplate.objects.get_or_create(kind=kind, channel="sms", defaults={"body": sms_body})
    apps.get_model("notifications", "MessagingSettings").objects.get_or_create(
        id=1, defaults={"reminder_offsets_hours": [48, 2]}
    )


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_messages")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
