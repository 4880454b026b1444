"""The thresholds of clinically important change (`treatments.ImportantChange`): practitioners
read them, a manager changes them; nobody adds or deletes one (one row per instrument,
seeded with its source). STarT Back screenings (`treatments.RiskScreening`) are clinical
records like the others: practitioners write them, managers read them.

Adds to the groups (a frozen copy of the grants in `accounts.permissions`, through
`accounts.group_grants`); reversing takes exactly these away. (Another branch may also
add an accounts 0015: renumber at merge.)
"""

from django.db import migrations

from accounts.group_grants import grant_and_revoke

IMPORTANT_CHANGE_GRANTS = {
    "Practitioner": {
        "treatments.importantchange": ("view",),
        "treatments.riskscreening": ("view", "add", "change"),
    },
    "Manager": {
        "treatments.importantchange": ("view", "change"),
        "treatments.riskscreening": ("view",),
    },
}

grant, revoke = grant_and_revoke("treatments", IMPORTANT_CHANGE_GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0014_waitlist_permissions"),
        ("treatments", "0011_risk_screening"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
