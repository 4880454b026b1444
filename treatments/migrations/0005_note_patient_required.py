import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("treatments", "0004_note_patient")]

    operations = [
        migrations.AlterField(
            model_name="treatmentnote",
            name="patient",
            field=models.ForeignKey(
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="patients.patient",
            ),
        ),
    ]
