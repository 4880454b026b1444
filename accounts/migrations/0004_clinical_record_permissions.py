"""Give practitioners and managers the clinical records (issue 5); reception gets none.

A frozen copy of `accounts.permissions.ROLE_PERMISSIONS` as it stood when this migration was
written: the sets of 0003 plus the `treatments` app's models. Practitioners view, add and
change every clinical record; managers view them all and change plans and their phases;
nobody deletes one. Like 0003, it creates the permissions it grants first (post_migrate only
runs after every migration), then gives each group exactly its set. Reversing it takes away
exactly the clinical grants, leaving the groups as 0003 made them.
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

CLINICAL_RECORDS = (
    "treatments.intake",
    "treatments.redflagclearance",
    "treatments.treatmentplan",
    "treatments.planphase",
    "treatments.treatmentnote",
    "treatments.exerciseentry",
    "treatments.addendum",
    "treatments.outcomemeasure",
)
CLINICAL_PLANS = ("treatments.treatmentplan", "treatments.planphase")

# What this migration adds to the sets of 0003.
CLINICAL_GRANTS = {
    "Reception": {},
    "Practitioner": dict.fromkeys(CLINICAL_RECORDS, EDIT),
    "Manager": {
        **dict.fromkeys(CLINICAL_RECORDS, VIEW),
        **dict.fromkeys(CLINICAL_PLANS, ("view", "change")),
    },
}

ROLE_PERMISSIONS = {
    "Reception": {
        "patients.patient": EDIT,
        "appointments.appointment": EDIT,
        **dict.fromkeys(PRACTICE_CONFIG, VIEW),
        # Nothing of `treatments`, ever: reception does not read clinical records.
    },
    "Practitioner": {
        "patients.patient": VIEW,
        "appointments.appointment": ("view", "change"),
        **dict.fromkeys(PRACTICE_CONFIG, VIEW),
        **CLINICAL_GRANTS["Practitioner"],
    },
    "Manager": {
        **dict.fromkeys(PRACTICE_CONFIG, ALL),
        "patients.patient": EDIT,
        "appointments.appointment": EDIT,
        "accounts.user": EDIT,
        "auth.group": VIEW,
        **CLINICAL_GRANTS["Manager"],
    },
}

APPS = ("auth", "accounts", "practice", "patients", "appointments", "treatments")


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
    """Back to the groups of 0003: take away exactly the clinical grants."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, grants in CLINICAL_GRANTS.items():
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
        ("accounts", "0003_staff_group_permissions"),
        ("treatments", "0002_signed_records_are_final"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
