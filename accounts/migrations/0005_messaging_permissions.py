"""The message log for every staff role; templates and messaging settings for managers.

Adds to the groups of 0004 (a frozen copy of the grants in `accounts.permissions`);
reversing takes exactly these away.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MESSAGING_GRANTS = {
    "Reception": {"notifications.notification": ("view",)},
    "Practitioner": {"notifications.notification": ("view",)},
    "Manager": {
        "notifications.notification": ("view",),
        "notifications.messagetemplate": ("view", "change"),
        "notifications.messagingsettings": ("view", "change"),
    },
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
    app_config = apps.get_app_config("notifications")
    models_module = getattr(app_config, "models_module", None)
    app_config.models_module = models_module or True  # see 0004
    try:
        create_permissions(app_config, verbosity=0, apps=apps, using=schema_editor.connection.alias)
    finally:
        app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    for name, grants in MESSAGING_GRANTS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*_permissions(apps, grants))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name, grants in MESSAGING_GRANTS.items():
        if group := Group.objects.filter(name=name).first():
            group.permissions.remove(*_permissions(apps, grants))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_clinical_record_permissions"),
        ("notifications", "0002_default_templates"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
