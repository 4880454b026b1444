"""The maintenance-visit prompt by email reminds a patient with a home programme of their
exercises (the template variable `programme`, `notifications.wording`). Only the clinic's
first words are changed: a template the manager has rewritten is left as they wrote it."""

from django.db import migrations

SIGN_OFF = "\n\nSee you soon,\n{{ clinic }}"
BEFORE = (
    "Hi {{ patient }},\n\nIt has been a while since your last visit. A maintenance "
    "session now keeps the pain from coming back. Book here: {{ book_url }}" + SIGN_OFF
)
AFTER = (
    "Hi {{ patient }},\n\nIt has been a while since your last visit. A maintenance "
    "session now keeps the pain from coming back. Book here: {{ book_url }}"
    "{% if programme %}\n\nUntil then, keep up your home exercises:\n{{ programme }}{% endif %}"
    + SIGN_OFF
)


def _replace(apps, old: str, new: str) -> None:
    apps.get_model("notifications", "MessageTemplate").objects.filter(
        kind="maintenance_prompt", channel="email", body=old
    ).update(body=new)


def mention(apps, schema_editor) -> None:
    _replace(apps, BEFORE, AFTER)


def unmention(apps, schema_editor) -> None:
    _replace(apps, AFTER, BEFORE)


class Migration(migrations.Migration):
    dependencies = [("notifications", "0010_offer_templates")]

    operations = [migrations.RunPython(mention, unmention)]
