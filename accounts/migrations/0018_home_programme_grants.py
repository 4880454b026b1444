"""The home programme: practitioners prescribe home exercises and read their patients'
logs (a patient writes their own through the API, which asks no group permission);
managers read them; both keep the clinic's exercise library (no deletion: a programme may
name an exercise, which is retired instead).

Adds to the groups (a frozen copy of the grants in `accounts.permissions`, through
`accounts.group_grants`); reversing takes exactly these away.
"""

from django.db import migrations

from accounts.group_grants import grant_and_revoke

EDIT = ("view", "add", "change")
HOME_PROGRAMME_GRANTS = {
    "Practitioner": {
        "treatments.homeexercise": EDIT,
        "treatments.homeexerciselog": ("view",),
        "treatments.exercise": EDIT,
    },
    "Manager": {
        "treatments.homeexercise": ("view",),
        "treatments.homeexerciselog": ("view",),
        "treatments.exercise": EDIT,
    },
}

grant, revoke = grant_and_revoke("treatments", HOME_PROGRAMME_GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0017_group_class_permissions"),
        ("treatments", "0013_home_programme"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
