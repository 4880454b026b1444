"""Store every login's email in the one spelling that sign-ins are matched in
(`accounts.emails.normalize_email`: NFKC, case-folded, no surrounding space).

Before, addresses were only lower-cased, so a stored `Zoe@ｅxample.com` or `straße@x.de`
could no longer be reached once sign-ins compare the normalised form exactly. Two logins
whose addresses normalise alike (look-alikes) cannot both take it: the one that already
holds that spelling, else the earliest joined, gets it; the others keep their stored
address (no sign-in reaches it any more, since every sign-in is normalised first) and are
printed for a superuser to resolve. Nothing is merged or deleted. Reversing keeps the
normalised addresses (the old spelling is not kept).
"""

import unicodedata

from django.db import migrations


def _normalize(typed: str) -> str:
    # A frozen copy of accounts.emails.normalize_email: a migration must not follow live code.
    compatible = unicodedata.normalize("NFKC", typed or "").strip()
    return unicodedata.normalize("NFKC", compatible.casefold()).strip()


def normalise_emails(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    users = list(User.objects.order_by("date_joined", "pk").only("pk", "email"))
    taken = {user.email for user in users if _normalize(user.email) == user.email}
    for user in users:
        normalised = _normalize(user.email)
        if normalised == user.email:
            continue
        if normalised in taken:
            print(
                f"\n  accounts.0009: login {user.pk} ({user.email!r}) kept its address: "
                f"{normalised!r} belongs to another login. Resolve by hand.",
            )
            continue
        taken.add(normalised)
        User.objects.filter(pk=user.pk).update(email=normalised)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0008_security_policy_row_and_permissions")]

    operations = [migrations.RunPython(normalise_emails, migrations.RunPython.noop)]
