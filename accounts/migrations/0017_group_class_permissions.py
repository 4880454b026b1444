"""Group classes: reception and managers schedule and cancel classes and book patients in
(add and change a class) and mark attendance (change a place); practitioners see the
classes and mark the attendance of their own classes' attendees.

Adds to the groups (a frozen copy of the grants in `accounts.permissions`, through
`accounts.group_grants`); reversing takes exactly these away.
"""

from django.db import migrations

from accounts.group_grants import grant_and_revoke

CLASS_GRANTS = {
    "Reception": {
        "appointments.groupclass": ("view", "add", "change"),
        "appointments.classplace": ("view", "change"),
    },
    "Practitioner": {
        "appointments.groupclass": ("view",),
        "appointments.classplace": ("view", "change"),
    },
    "Manager": {
        "appointments.groupclass": ("view", "add", "change"),
        "appointments.classplace": ("view", "change"),
    },
}

grant, revoke = grant_and_revoke("appointments", CLASS_GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0016_waitlist_offer_permissions"),
        ("appointments", "0013_group_classes"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
