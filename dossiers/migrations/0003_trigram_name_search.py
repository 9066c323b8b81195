"""A trigram index for the applicant-name search of the dossier list (PostgreSQL only).

The list searches names with ``applicant_name__icontains``, which PostgreSQL runs as
``UPPER(applicant_name::text) LIKE UPPER('%…%')``: a B-tree cannot serve a leading wildcard, a
GIN index with pg_trgm on the same expression can. SQLite (tests, the embedded default) gets
nothing: the operations below do nothing there.
"""

from django.db import migrations

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS dossier_name_trgm_idx ON dossiers_dossier "
    "USING gin ((UPPER(applicant_name::text)) gin_trgm_ops)",
]
DROP = ["DROP INDEX IF EXISTS dossier_name_trgm_idx"]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("dossiers", "0002_import_jobs_and_code_search")]

    operations = [migrations.RunPython(_run(CREATE), _run(DROP), elidable=False)]
