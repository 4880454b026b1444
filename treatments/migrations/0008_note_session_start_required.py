from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("treatments", "0007_note_session_start")]

    operations = [
        migrations.AlterField(
            model_name="treatmentnote",
            name="session_start",
            field=models.DateTimeField(editable=False),
        ),
        migrations.AddIndex(
            model_name="treatmentnote",
            index=models.Index(fields=["session_start", "id"], name="note_session_start"),
        ),
    ]
