"""Two indexes every write of a dossier paid for and no query needs:

- ``dossier_received_idx`` (received_at): ``dossier_week_received_idx`` leads with the same
  column and serves the list's newest-first walk as well (the same plans and times at 1M
  dossiers, docs/performance.md);
- the ``varchar_pattern_ops`` index Django adds beside a unique text column, for
  ``code LIKE 'prefix%'``: nothing looks codes up by their beginning (the code search is
  ``UPPER(code) LIKE '%…%'``, served by the trigram index).

Fewer indexes is fewer pages for each insert to read and write (an import of 100,000 rows
writes into every one of them). Dropped CONCURRENTLY: no lock on writes, so not atomic.
"""

from django.db import migrations, models

RECEIVED_INDEX = models.Index(fields=["received_at"], name="dossier_received_idx")


def drop_indexes(apps, schema_editor):
    model = apps.get_model("dossiers", "Dossier")
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.remove_index(model, RECEIVED_INDEX)
        return
    schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS dossier_received_idx")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " WHERE i.indrelid = 'dossiers_dossier'::regclass"
            " AND pg_get_indexdef(i.indexrelid) LIKE '%%(code varchar_pattern_ops)%%'"
        )
        names = [name for (name,) in cursor.fetchall()]
    for name in names:
        schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')


def add_indexes(apps, schema_editor):
    model = apps.get_model("dossiers", "Dossier")
    concurrently = {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}
    schema_editor.add_index(model, RECEIVED_INDEX, **concurrently)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS dossiers_dossier_code_like"
            " ON dossiers_dossier (code varchar_pattern_ops)"
        )


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("dossiers", "0007_code_search_index_off_equality")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.RemoveIndex(model_name="dossier", name="dossier_received_idx")],
            database_operations=[migrations.RunPython(drop_indexes, add_indexes, elidable=False)],
        ),
    ]
