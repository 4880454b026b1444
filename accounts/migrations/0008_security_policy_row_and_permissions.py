"""The security policy's one row (two-factor not required), and what managers may do with
sign-in security: edit the policy, unlock a locked-out account (delete its failed
attempts), and remove a lost phone's two-factor device.

Adds to the groups of 0006 (a frozen copy of the grants in `accounts.permissions`);
reversing takes exactly these away.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

SECURITY_GRANTS = {
    "Manager": {
        "accounts.securitypolicy": ("view", "change"),
        "axes.accessattempt": ("view", "delete"),
        "otp_totp.totpdevice": ("view", "delete"),
    }
}


def _permissions(apps, grants):
    Permission = apps.get_model("auth", "Permission")
    for model_key, actions in grants.items():
        app_label, model_name = model_key.split(".")
        yield from Permission.objects.filter(
            content_type__app_label=app_label,
            content_type__model=model_name,
            codename__in=[f"{action}_{model_name}" for action in actions],
        )


def grant(apps, schema_editor):
    apps.get_model("accounts", "SecurityPolicy").objects.get_or_create(id=1)
    for app_label in ("accounts", "axes", "otp_totp"):
        app_config = apps.get_app_config(app_label)
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True  # see 0004
        try:
            create_permissions(
                app_config, verbosity=0, apps=apps, using=schema_editor.connection.alias
            )
        finally:
            app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    for name, grants in SECURITY_GRANTS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*_permissions(apps, grants))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name, grants in SECURITY_GRANTS.items():
        if group := Group.objects.filter(name=name).first():
            group.permissions.remove(*_permissions(apps, grants))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_security_policy"),
        ("axes", "0010_accessattemptexpiration"),
        ("otp_totp", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
