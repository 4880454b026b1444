"""The waitlist's offers of freed time: reception and managers see the offers, offer a
free time by hand (add) and withdraw an offer (change); the manager sets the offer policy,
reception reads it.

Adds to the groups (a frozen copy of the grants in `accounts.permissions`, through
`accounts.group_grants`); reversing takes exactly these away.
"""

from django.db import migrations

from accounts.group_grants import grant_and_revoke

OFFER_GRANTS = {
    "Reception": {
        "waitlist.waitlistoffer": ("view", "add", "change"),
        "waitlist.offerpolicy": ("view",),
    },
    "Manager": {
        "waitlist.waitlistoffer": ("view", "add", "change"),
        "waitlist.offerpolicy": ("view", "add", "change"),
    },
}

grant, revoke = grant_and_revoke("waitlist", OFFER_GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0015_outcome_measure_grants"),
        ("waitlist", "0002_offers_of_freed_time"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
