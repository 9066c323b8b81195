"""The trigram index for part of a code moves to ``UPPER(code)``.

On the plain column, ``gin_trgm_ops`` also serves ``code = …`` (pg_trgm answers equality), and
the planner priced a probe of it below one of the unique B-tree index on the code: every lookup
of a dossier by its code (the import's check of 100,000 codes, the API, the citizen's lookup)
went through the trigram index at about 0.3 ms and 100 buffers a probe — 33 s of a 100,000-row
import at 1M dossiers. An index on ``UPPER(code)`` can only serve a search written on that
expression (``code__icontains``, dossiers.search), so equality goes back to the unique index.
Codes are stored upper case: ``UPPER(code)`` is the code.
"""

from django.db import migrations

FORWARD = [
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS dossier_code_upper_trgm_idx ON dossiers_dossier "
    "USING gin (UPPER(code::text) gin_trgm_ops)",
    "DROP INDEX CONCURRENTLY IF EXISTS dossier_code_trgm_idx",
]
BACKWARD = [
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS dossier_code_trgm_idx ON dossiers_dossier "
    "USING gin (code gin_trgm_ops)",
    "DROP INDEX CONCURRENTLY IF EXISTS dossier_code_upper_trgm_idx",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("dossiers", "0006_lookup_window_intake_submission")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False)]
