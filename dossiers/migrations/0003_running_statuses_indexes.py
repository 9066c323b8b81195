"""The partial indexes of the dossiers whose clock runs: the running statuses are now newly
registered, accepted and processing (dossiers.statuses.RUNNING; a financial obligation stops the
clock like a supplement). The dashboard's late and nearly-due lists use the same rule as the list's
filters, so their index follows it (``dossier_open_due_idx`` becomes ``dossier_running_due_idx``).

Built concurrently on PostgreSQL, so that building them on a table that holds data does not block
writes; the plain operations on SQLite.
"""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class AddIndexConcurrentlyOnPostgres(AddIndexConcurrently):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class RemoveIndexConcurrentlyOnPostgres(RemoveIndexConcurrently):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return migrations.RemoveIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return migrations.RemoveIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


RUNNING = models.Q(("status__in", (1, 2, 4)))


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("dossiers", "0002_messages_declined"),
    ]

    operations = [
        RemoveIndexConcurrentlyOnPostgres(model_name="dossier", name="dossier_open_due_idx"),
        RemoveIndexConcurrentlyOnPostgres(model_name="dossier", name="dossier_running_received_idx"),
        AddIndexConcurrentlyOnPostgres(
            model_name="dossier",
            index=models.Index(
                condition=RUNNING, fields=["receiving_unit", "due_date", "id"], name="dossier_running_due_idx"
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="dossier",
            index=models.Index(condition=RUNNING, fields=["-received_at", "-id"], name="dossier_running_received_idx"),
        ),
    ]
