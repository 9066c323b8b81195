"""Search that ignores diacritics, part of a code, a phone number (dossiers.search), and the
list sorted by due date.

PostgreSQL: ``postdesk_fold(text)`` = ``lower(unaccent(text))`` declared IMMUTABLE (``unaccent``
itself is only STABLE, as its dictionary could change, so it cannot be indexed directly), a
trigram GIN index on ``postdesk_fold(applicant_name)`` for ``LIKE '%hong nhung%'`` and
statistics on the same expression so the planner knows how common a name is (a family name:
walk the received-at index newest first; a full name: the trigram index). The UPPER() index
and statistics of the initial migration served the old case-only search and go. A trigram index on
the code serves ``LIKE '%261129-0002%'``.

SQLite keeps a plain scan; ``postdesk_fold`` is registered on each connection in Python.

The table holds data: on PostgreSQL every index is built CONCURRENTLY (no lock on writes), so
the migration is not atomic.
"""

from django.db import migrations, models

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    # Schema-qualified so it works whatever the caller's search_path.
    "CREATE OR REPLACE FUNCTION postdesk_fold(text) RETURNS text LANGUAGE sql IMMUTABLE STRICT "
    "PARALLEL SAFE AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, $1)) $$",
    "DROP INDEX CONCURRENTLY IF EXISTS dossier_name_trgm_idx",
    "DROP STATISTICS IF EXISTS dossier_name_upper_stats",
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS dossier_name_fold_trgm_idx ON dossiers_dossier "
    "USING gin (postdesk_fold(applicant_name::text) gin_trgm_ops)",
    "CREATE STATISTICS IF NOT EXISTS dossier_name_fold_stats ON (postdesk_fold(applicant_name::text)) "
    "FROM dossiers_dossier",
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS dossier_code_trgm_idx ON dossiers_dossier "
    "USING gin (code gin_trgm_ops)",
    "ANALYZE dossiers_dossier",
]
BACKWARD = [
    "DROP INDEX IF EXISTS dossier_code_trgm_idx",
    "DROP STATISTICS IF EXISTS dossier_name_fold_stats",
    "DROP INDEX IF EXISTS dossier_name_fold_trgm_idx",
    "CREATE STATISTICS IF NOT EXISTS dossier_name_upper_stats ON (UPPER(applicant_name::text)) "
    "FROM dossiers_dossier",
    "CREATE INDEX IF NOT EXISTS dossier_name_trgm_idx ON dossiers_dossier "
    "USING gin (UPPER(applicant_name::text) gin_trgm_ops)",
    "DROP FUNCTION IF EXISTS postdesk_fold(text)",
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
    dependencies = [("dossiers", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(model_name="dossier", index=DUE_INDEX),
                migrations.AddIndex(model_name="dossier", index=PHONE_INDEX),
            ],
            database_operations=[migrations.RunPython(add_indexes, remove_indexes, elidable=False)],
        ),
        migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False),
    ]
