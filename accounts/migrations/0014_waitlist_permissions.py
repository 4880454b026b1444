"""The waitlist: reception and managers put patients on it and end entries, practitioners
read it (the entries of the patients in their care: `waitlist.selectors`).

Adds to the groups (a frozen copy of the grants in `accounts.permissions`); reversing takes
exactly these away.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

WAITLIST_GRANTS = {
    "Reception": {"waitlist.waitlistentry": ("view", "add", "change")},
    "Practitioner": {"waitlist.waitlistentry": ("view",)},
    "Manager": {"waitlist.waitlistentry": ("view", "add", "change")},
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
    app_config = apps.get_app_config("waitlist")
    models_module = getattr(app_config, "models_module", None)
    app_config.models_module = (
        models_module or True
    )  # see 0004: the permissions must exist before they are granted
    try:
        create_permissions(app_config, verbosity=0, apps=apps, using=schema_editor.connection.alias)
    finally:
        app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    for name, grants in WAITLIST_GRANTS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*_permissions(apps, grants))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name, grants in WAITLIST_GRANTS.items():
        if group := Group.objects.filter(name=name).first():
            group.permissions.remove(*_permissions(apps, grants))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0013_reply_permissions"),
        ("waitlist", "0001_waiting_entries"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
