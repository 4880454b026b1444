from django.db import migrations


def create_booking_rules(apps, schema_editor):
    apps.get_model("practice", "BookingRules").objects.get_or_create(id=1)


class Migration(migrations.Migration):
    dependencies = [("practice", "0001_initial")]

    operations = [migrations.RunPython(create_booking_rules, migrations.RunPython.noop)]
