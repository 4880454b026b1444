"""Give the staff groups exactly their permissions.

A frozen copy of `accounts.permissions.ROLE_PERMISSIONS` as it stood when this migration was
written: a later change to a role's set is a new migration, never an edit of this one.
Permissions are normally created by post_migrate, after every migration has run, so this one
creates those of the apps it grants first.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW = ("view",)
EDIT = ("view", "add", "change")
ALL = ("view", "add", "change", "delete")

PRACTICE_CONFIG = (
    "practice.location",
    "practice.room",
    "practice.service",
    "practice.practitioner",
    "practice.workinghours",
    "practice.break",
    "practice.leave",
    "practice.extrahours",
    "practice.bookingrules",
)

ROLE_PERMISSIONS = {
    "Reception": {
        "patients.patient": EDIT,
        "appointments.appointment": EDIT,
        **dict.fromkeys(PRACTICE_CONFIG, VIEW),
        # Nothing of `treatments`: reception does not read clinical records.
    },
    "Practitioner": {
        "patients.patient": VIEW,
        "appointments.appointment": ("view", "change"),
        **dict.fromkeys(PRACTICE_CONFIG, VIEW),
        # Clinical records (treatments) come with their models, in a later migration.
    },
    "Manager": {
        **dict.fromkeys(PRACTICE_CONFIG, ALL),
        "patients.patient": EDIT,
        "appointments.appointment": EDIT,
        "accounts.user": EDIT,
        "auth.group": VIEW,
    },
}

APPS = ("auth", "accounts", "practice", "patients", "appointments")


def _permissions_of(apps, grants):
    Permission = apps.get_model("auth", "Permission")
    permissions = []
    for model_key, actions in grants.items():
        app_label, model_name = model_key.split(".")
        for action in actions:
            permissions.append(
                Permission.objects.get(
                    content_type__app_label=app_label,
                    content_type__model=model_name,
                    codename=f"{action}_{model_name}",
                )
            )
    return permissions


def grant(apps, schema_editor):
    for label in APPS:
        app_config = apps.get_app_config(label)
        # create_permissions skips an app without a models module, as a migration state's
        # app config (a stub) is; lend it one for the call.
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True
        try:
            create_permissions(
                app_config, verbosity=0, apps=apps, using=schema_editor.connection.alias
            )
        finally:
            app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    for name, grants in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(_permissions_of(apps, grants))


def revoke(apps, schema_editor):
    """Back to the groups of 0002: take away exactly what `grant` gave."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, grants in ROLE_PERMISSIONS.items():
        group = Group.objects.filter(name=name).first()
        if group is None:
            continue
        for model_key, actions in grants.items():
            app_label, model_name = model_key.split(".")
            group.permissions.remove(
                *Permission.objects.filter(
                    content_type__app_label=app_label,
                    content_type__model=model_name,
                    codename__in=[f"{action}_{model_name}" for action in actions],
                )
            )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_staff_groups"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("practice", "0002_default_booking_rules"),
        ("patients", "0001_initial"),
        ("appointments", "0003_leaner_indexes"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
