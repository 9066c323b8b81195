"""Indexes of the dossier list: name search (PostgreSQL) and running dossiers in list order."""

from django.db import connection

from dossiers.models import Dossier


def _catalogue():
    with connection.cursor() as cursor:
        cursor.execute("SELECT stxname FROM pg_statistic_ext WHERE stxrelid = 'dossiers_dossier'::regclass")
        statistics = {row[0] for row in cursor.fetchall()}
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'dossiers_dossier'")
        indexes = dict(cursor.fetchall())
    return statistics, indexes


def test_name_search_statistics_and_trigram_index(db):
    if connection.vendor != "postgresql":  # SQLite: the migration leaves the schema alone
        with connection.cursor() as cursor:
            names = {row[0] for row in cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert "dossier_name_trgm_idx" not in names
        return
    statistics, indexes = _catalogue()
    assert "dossier_name_upper_stats" in statistics
    definition = indexes["dossier_name_trgm_idx"]
    assert "gin" in definition and "gin_trgm_ops" in definition and "upper" in definition.lower()
    # The index serves exactly the expression the list's icontains search sends.
    sql = str(Dossier.objects.filter(applicant_name__icontains="Nguyễn").query)
    assert 'UPPER("dossiers_dossier"."applicant_name"::text) LIKE UPPER(' in sql


def test_running_list_index_covers_exactly_the_running_statuses():
    from dossiers.statuses import RUNNING as RUNNING_STATUSES

    (index,) = [i for i in Dossier._meta.indexes if i.name == "dossier_running_received_idx"]
    # The overdue and nearly-due filters use RUNNING_STATUSES: the index's condition must match
    # them, or the planner cannot use it for those pages.
    assert set(dict(index.condition.children)["status__in"]) == set(RUNNING_STATUSES)
