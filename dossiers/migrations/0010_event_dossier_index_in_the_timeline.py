# The events' own index on dossier_id went: dossier_event_timeline_idx (dossier_id, at) leads with
# the same column and serves every look-up by dossier, the cascade included; each event written
# (an import writes 100,000, a carrier event one) paid for both. Only the index is dropped: the
# AlterField Django would run drops and re-adds the foreign key, validating every event again.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("dossiers", "0009_running_by_due_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="dossierevent",
                    name="dossier",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="dossiers.dossier",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS dossiers_dossierevent_dossier_id_90237d93",
                    "CREATE INDEX IF NOT EXISTS dossiers_dossierevent_dossier_id_90237d93"
                    " ON dossiers_dossierevent (dossier_id)",
                ),
            ],
        ),
    ]
