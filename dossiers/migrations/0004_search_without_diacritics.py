"""Search that ignores diacritics, part of a code, a phone number (dossiers.search), and the
list sorted by due date.

- ``postdesk_fold(text)`` = ``lower(unaccent(text))`` on PostgreSQL, declared IMMUTABLE
  (``unaccent`` itself is only STABLE, as its dictionary could change) so that a stored
  generated column can use it; on SQLite the same folding in Python, registered on each
  connection (dossiers.search).
- ``applicant_name_folded``: the folded name, a stored generated column the database fills on
  every write, however the row is written (forms, COPY imports, the generator).
- ``dossier_name_fold_trgm_idx``: a trigram GIN index on it for ``LIKE '%hong nhung%'``. At 1M
  dossiers the plain column answered in half the time of the same index on the expression
  ``postdesk_fold(applicant_name)`` (docs/performance.md), as rechecking a row reads the stored
  value instead of calling unaccent again.
- ``dossier_code_trgm_idx``: part of a code, ``LIKE '%261129-0002%'``.
- The UPPER() index and statistics of the initial migration served the old case-only search
  and go.

The table holds data: adding the stored column rewrites it once; the indexes are built
CONCURRENTLY (no lock on writes), so the migration is not atomic. SQLite keeps plain scans.
"""

from django.db import migrations, models

FUNCTION_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    # Schema-qualified so it works whatever the caller's search_path.
    "CREATE OR REPLACE FUNCTION postdesk_fold(text) RETURNS text LANGUAGE sql IMMUTABLE STRICT "
    "PARALLEL SAFE AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, $1)) $$",
]
FUNCTION_BACKWARD = ["DROP FUNCTION IF EXISTS postdesk_fold(text)"]
INDEXES_FORWARD = [
    "DROP INDEX CONCURRENTLY IF EXISTS dossier_name_trgm_idx",
    "DROP STATISTICS IF EXISTS dossier_name_upper_stats",
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS dossier_name_fold_trgm_idx ON dossiers_dossier "
    "USING gin (applicant_name_folded gin_trgm_ops)",
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS dossier_code_trgm_idx ON dossiers_dossier "
    "USING gin (code gin_trgm_ops)",
    "ANALYZE dossiers_dossier",
]
INDEXES_BACKWARD = [
    "DROP INDEX CONCURRENTLY IF EXISTS dossier_code_trgm_idx",
    "DROP INDEX CONCURRENTLY IF EXISTS dossier_name_fold_trgm_idx",
    "CREATE STATISTICS IF NOT EXISTS dossier_name_upper_stats ON (UPPER(applicant_name::text)) "
    "FROM dossiers_dossier",
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS dossier_name_trgm_idx ON dossiers_dossier "
    "USING gin (UPPER(applicant_name::text) gin_trgm_ops)",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


DUE_INDEX = models.Index(fields=["due_date", "id"], name="dossier_due_idx")
PHONE_INDEX = models.Index(
    condition=models.Q(("applicant_phone", ""), _negated=True),
    fields=["applicant_phone"],
    name="dossier_phone_idx",
)


def add_indexes(apps, schema_editor):
    model = apps.get_model("dossiers", "Dossier")
    concurrently = {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}
    for index in (DUE_INDEX, PHONE_INDEX):
        schema_editor.add_index(model, index, **concurrently)


def remove_indexes(apps, schema_editor):
    model = apps.get_model("dossiers", "Dossier")
    concurrently = {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}
    for index in (DUE_INDEX, PHONE_INDEX):
        schema_editor.remove_index(model, index, **concurrently)


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("dossiers", "0003_running_statuses_indexes")]

    operations = [
        migrations.RunPython(_run(FUNCTION_FORWARD), _run(FUNCTION_BACKWARD), elidable=False),
        migrations.AddField(
            model_name="dossier",
            name="applicant_name_folded",
            field=models.GeneratedField(
                db_persist=True,
                expression=models.Func(
                    models.F("applicant_name"), function="postdesk_fold", output_field=models.TextField()
                ),
                output_field=models.TextField(),
                verbose_name="applicant (for search)",
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(model_name="dossier", index=DUE_INDEX),
                migrations.AddIndex(model_name="dossier", index=PHONE_INDEX),
            ],
            database_operations=[migrations.RunPython(add_indexes, remove_indexes, elidable=False)],
        ),
        migrations.RunPython(_run(INDEXES_FORWARD), _run(INDEXES_BACKWARD), elidable=False),
    ]
