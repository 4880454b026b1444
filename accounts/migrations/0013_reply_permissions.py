"""The patients' SMS replies: every staff role reads them, reception and managers mark
them handled.

Adds to the groups (a frozen copy of the grants in `accounts.permissions`, through
`accounts.group_grants`); reversing takes exactly these away.
"""

from django.db import migrations

from accounts.group_grants import grant_and_revoke

REPLY_GRANTS = {
    "Reception": {"notifications.reply": ("view", "change")},
    "Practitioner": {"notifications.reply": ("view",)},
    "Manager": {"notifications.reply": ("view", "change")},
}

grant, revoke = grant_and_revoke("notifications", REPLY_GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0012_existing_logins_count_as_verified"),
        ("notifications", "0004_provider_status_and_replies"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
