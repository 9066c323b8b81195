"""The dashboard's late and nearly-due lists over the whole country: the running dossiers in
due-date order (a partial index on the statuses of dossiers.statuses.RUNNING)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("dossiers", "0008_fewer_indexes_to_write"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="dossier",
            index=models.Index(
                condition=models.Q(("status__in", (1, 2, 4))),
                fields=["due_date", "id"],
                name="dossier_running_by_due_idx",
            ),
        ),
    ]
