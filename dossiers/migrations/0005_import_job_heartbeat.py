from django.db import migrations, models


class Migration(migrations.Migration):
    """The last sign of life of the process running an import: a running job that stops
    reporting has lost its worker and is marked failed (dossiers.importing.fail_stalled_jobs)."""

    dependencies = [
        ("dossiers", "0004_search_without_diacritics"),
    ]

    operations = [
        migrations.AddField(
            model_name="importjob",
            name="heartbeat_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="last progress"),
        ),
    ]
