"""The thresholds of clinically important change (`treatments.ImportantChange`): practitioners
read them, a manager changes them; nobody adds or deletes one (one row per instrument,
seeded with its source).

Adds to the groups (a frozen copy of the grants in `accounts.permissions`, through
`accounts.group_grants`); reversing takes exactly these away. (Another branch may also
add an accounts 0015: renumber at merge.)
"""

from django.db import migrations

from accounts.group_grants import grant_and_revoke

IMPORTANT_CHANGE_GRANTS = {
    "Practitioner": {"treatments.importantchange": ("view",)},
    "Manager": {"treatments.importantchange": ("view", "change")},
}

grant, revoke = grant_and_revoke("treatments", IMPORTANT_CHANGE_GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0014_waitlist_permissions"),
        ("treatments", "0010_important_change_thresholds"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
