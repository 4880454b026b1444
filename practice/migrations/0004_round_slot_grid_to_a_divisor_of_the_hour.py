"""Data step before 0005 refuses slot grids that do not divide the hour: a separate
migration, as the table's deferred trigger would make the ALTER TABLE of the same
transaction fail ("pending trigger events")."""

from django.db import migrations

# The grids allowed from here on, as this migration knows them.
SLOT_GRIDS = (5, 10, 15, 20, 30, 60)


def round_grid_to_one_that_divides_the_hour(apps, schema_editor):
    """A grid saved before it was refused (7 minutes) becomes the nearest allowed one, the
    finer when two are as near, so that the new constraint can hold."""
    BookingRules = apps.get_model("practice", "BookingRules")
    for rules in BookingRules.objects.exclude(slot_grid_minutes__in=SLOT_GRIDS):
        rules.slot_grid_minutes = min(
            SLOT_GRIDS, key=lambda grid: (abs(grid - rules.slot_grid_minutes), grid)
        )
        rules.save(update_fields=["slot_grid_minutes"])


class Migration(migrations.Migration):
    dependencies = [
        ("practice", "0003_diary_version"),
    ]

    operations = [
        migrations.RunPython(round_grid_to_one_that_divides_the_hour, migrations.RunPython.noop),
    ]
