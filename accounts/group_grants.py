"""Data migrations that give the role groups the permissions of a new app's models: one
`RunPython` pair for each, reading the historical models (`apps`), so a migration keeps
working whatever the models become. Each migration passes a frozen copy of its grants (as
`accounts.permissions` had them then); reversing takes exactly those away."""

from collections.abc import Callable, Iterator, Mapping

from django.contrib.auth.management import create_permissions

Grants = Mapping[str, Mapping[str, tuple[str, ...]]]  # group → "app.model" → actions


def grant_and_revoke(app_label: str, grants: Grants) -> tuple[Callable, Callable]:
    """The two functions of the `RunPython` that adds `grants` to their groups (creating the
    permissions of `app_label` first) and takes them away when reversed."""

    def grant(apps, schema_editor) -> None:
        app_config = apps.get_app_config(app_label)
        models_module = getattr(app_config, "models_module", None)
        # Django creates permissions after the whole migrate run; they must exist now.
        app_config.models_module = models_module or True
        try:
            create_permissions(
                app_config, verbosity=0, apps=apps, using=schema_editor.connection.alias
            )
        finally:
            app_config.models_module = models_module
        Group = apps.get_model("auth", "Group")
        for name, by_model in grants.items():
            group, _ = Group.objects.get_or_create(name=name)
            group.permissions.add(*_permissions(apps, by_model))

    def revoke(apps, schema_editor) -> None:
        Group = apps.get_model("auth", "Group")
        for name, by_model in grants.items():
            if group := Group.objects.filter(name=name).first():
                group.permissions.remove(*_permissions(apps, by_model))

    return grant, revoke


def _permissions(apps, by_model: Mapping[str, tuple[str, ...]]) -> Iterator:
    Permission = apps.get_model("auth", "Permission")
    for model_key, actions in by_model.items():
        app_label, model_name = model_key.split(".")
        yield from Permission.objects.filter(
            content_type__app_label=app_label,
            content_type__model=model_name,
            codename__in=[f"{action}_{model_name}" for action in actions],
        )
