"""The audit log for managers (read only; nobody may change or delete an entry).

Adds to the groups of 0005 (a frozen copy of the grant in `accounts.permissions`);
reversing takes exactly this away.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

AUDIT_GRANTS = {"Manager": {"audit.auditentry": ("view",)}}


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
    app_config = apps.get_app_config("audit")
    models_module = getattr(app_config, "models_module", None)
    app_config.models_module = models_module or True  # see 0004
    try:
        create_permissions(app_config, verbosity=0, apps=apps, using=schema_editor.connection.alias)
    finally:
        app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    for name, grants in AUDIT_GRANTS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*_permissions(apps, grants))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name, grants in AUDIT_GRANTS.items():
        if group := Group.objects.filter(name=name).first():
            group.permissions.remove(*_permissions(apps, grants))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_messaging_permissions"),
        ("audit", "0001_initial"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
