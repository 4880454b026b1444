"""The waitlist: reception and managers put patients on it and end entries, practitioners
read it (the entries of the patients in their care: `waitlist.selectors`).

Adds to the groups (a frozen copy of the grants in `accounts.permissions`, through
`accounts.group_grants`); reversing takes exactly these away.
"""

from django.db import migrations

from accounts.group_grants import grant_and_revoke

WAITLIST_GRANTS = {
    "Reception": {"waitlist.waitlistentry": ("view", "add", "change")},
    "Practitioner": {"waitlist.waitlistentry": ("view",)},
    "Manager": {"waitlist.waitlistentry": ("view", "add", "change")},
}

grant, revoke = grant_and_revoke("waitlist", WAITLIST_GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0013_reply_permissions"),
        ("waitlist", "0001_waiting_entries"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
